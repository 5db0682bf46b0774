"""Docs that cannot drift (issue 17, point 6): every configuration key,
command and flag the binary knows (`tagd help --json`, made from the same
tables the parser uses) is in README.md and packaging/tagd.8, and nothing
there is unknown to the binary.

Where each is looked for:
- keys: the rows of the key table under README's "### Configuration", and the
  `.TP` / `.B key` entries of tagd(8)'s CONFIGURATION section;
- commands and their flags: the `tagd ...` lines of the first code block under
  README's "## Using it", and the `.B tagd ...` lines of tagd(8)'s SYNOPSIS
  (one line per command; the words up to the first that is not a lower-case
  word are its name, every `--flag` on the line is one of its flags); each
  command also has its own `.B tagd NAME` entry in tagd(8)'s COMMANDS;
- the flags every command of a kind gets (--config, --db, --help) are
  described once, in README's "Using it" and tagd(8)'s COMMANDS.
"""
import json
import os
import re
import subprocess
import unittest

from tagdtest import TAGD_BIN, clean_env

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def binary():
    r = subprocess.run([TAGD_BIN, "help", "--json"], capture_output=True, text=True,
                       timeout=60, env=clean_env())
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def section(text, heading):
    """The text of a Markdown section, from its heading to the next of the same level."""
    level = heading.split(" ")[0]
    start = text.index("\n" + heading + "\n")
    end = re.compile(r"\n" + level + r" ").search(text, start + len(heading) + 2)
    return text[start:end.start() if end else len(text)]


def roff_section(text, name):
    start = text.index("\n.SH " + name + "\n")
    end = text.find("\n.SH ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def roff_text(line):
    """A roff line as it reads: no macro, no font escapes, \\- as -."""
    line = re.sub(r"^\.[A-Z]+\s+", "", line)
    line = re.sub(r"\\f[BIRP]", "", line)
    return line.replace("\\-", "-").replace('"', "")


def command_lines(lines):
    """{command name: set of its --flags} from synopsis lines ("tagd token list --org NAME")."""
    out = {}
    for line in lines:
        words = line.split("#", 1)[0].split()
        assert words[0] == "tagd", line
        name = []
        for w in words[1:]:
            if not re.fullmatch(r"[a-z][a-z-]*", w):
                break
            name.append(w)
        key = " ".join(name)
        assert key not in out, f"{key} documented twice"
        out[key] = set(re.findall(r"--[a-z][a-z-]*", " ".join(words)))
    return out


class DocsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = binary()
        cls.readme = read("README.md")
        cls.man = read("packaging/tagd.8")

    def own_flags(self, cmd):
        return {f["name"] for f in cmd["flags"] if not f["common"]}

    # -- keys --
    def test_keys_in_readme_table(self):
        table = section(self.readme, "### Configuration")
        documented = re.findall(r"^\| `([a-z_]+)` \|", table, re.M)
        self.assertEqual(len(documented), len(set(documented)), "a key documented twice")
        self.assertEqual(set(documented), {k["name"] for k in self.bin["keys"]})
        # Each row's default is the binary's (or says in words what an empty one means).
        for k in self.bin["keys"]:
            row = re.search(r"^\| `" + k["name"] + r"` \| ([^|]*) \|", table, re.M).group(1)
            with self.subTest(key=k["name"]):
                if k["default"]:
                    self.assertIn(f"`{k['default']}`", row)
                else:
                    self.assertRegex(row, r"^\(")

    def test_keys_in_man_page(self):
        conf = roff_section(self.man, "CONFIGURATION")
        documented = re.findall(r"^\.TP\n\.B ([a-z_]+)$", conf, re.M)
        self.assertEqual(len(documented), len(set(documented)), "a key documented twice")
        self.assertEqual(set(documented), {k["name"] for k in self.bin["keys"]})

    def test_key_flags_are_the_keys(self):
        for k in self.bin["keys"]:
            self.assertEqual(k["flag"], "--" + k["name"].replace("_", "-"))

    # -- commands and flags --
    def readme_commands(self):
        block = section(self.readme, "## Using it").split("```sh\n", 1)[1].split("```", 1)[0]
        return command_lines([ln for ln in block.splitlines() if ln.startswith("tagd ")])

    def man_commands(self):
        syn = roff_section(self.man, "SYNOPSIS")
        return command_lines([roff_text(ln) for ln in syn.splitlines()
                              if ln.startswith(".B tagd ")])

    def check_commands(self, documented, where):
        binary = {c["name"]: c for c in self.bin["commands"]}
        self.assertEqual(set(documented), set(binary), f"commands of the binary vs {where}")
        for name, flags in documented.items():
            with self.subTest(command=name, where=where):
                cmd = binary[name]
                common = {f["name"] for f in cmd["flags"] if f["common"]}
                # A key command shows --config (common) and --KEY; the keys are checked above.
                self.assertEqual(flags - common, self.own_flags(cmd))

    def test_commands_in_readme(self):
        self.check_commands(self.readme_commands(), "README.md")

    def test_commands_in_man_synopsis(self):
        self.check_commands(self.man_commands(), "tagd(8) SYNOPSIS")

    def test_every_command_described_in_man(self):
        described = re.findall(r"^\.TP\n\.B (tagd [a-z -\\]+)$",
                               roff_section(self.man, "COMMANDS"), re.M)
        self.assertEqual({roff_text(d)[5:] for d in described},
                         {c["name"] for c in self.bin["commands"]})

    def test_common_flags_described(self):
        usage = section(self.readme, "## Using it")
        man = roff_text(roff_section(self.man, "COMMANDS").replace("\n", " "))
        flags = {f["name"] for c in self.bin["commands"] for f in c["flags"] if f["common"]}
        self.assertEqual(flags, {"--config", "--db", "--help"})
        for flag in flags:
            self.assertIn(f"`{flag}", usage)
            self.assertIn(flag, man)

    # -- the README's curl examples --
    def test_curl_examples_fail_loudly(self):
        """A curl in a pipeline must not print a progress meter nor pass on an HTTP error:
        every README curl has -sS and either --fail-with-body or -w '%{http_code}'."""
        blocks = re.findall(r"```sh\n(.*?)```", self.readme, re.S)
        commands = []
        for block in blocks:
            joined = block.replace("\\\n", " ")
            lines = [re.sub(r"\s#\s.*$", "", ln) for ln in joined.splitlines()]
            commands += [ln for ln in lines if re.search(r"(^|[\s(])curl ", ln)]
        self.assertGreater(len(commands), 10)
        for line in commands:
            with self.subTest(line=line.strip()[:80]):
                self.assertRegex(line, r"curl (.* )?-sS ")
                if "%{http_code}" not in line:
                    self.assertIn("--fail-with-body", line)


if __name__ == "__main__":
    unittest.main()
