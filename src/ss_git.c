/*
 * ss_git.c - ServiceStage branches and commits: the read calls and tagd's
 * extension for recording commits (POST .../commits).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "names.h"
#include "ss_internal.h"
#include "ss_reply.h"

/* ---- GET .../branches ---- */

void ss_branches_list(struct call *c)
{
	struct ss_where w;
	struct ss_names names;

	if (!ss_repo_where(c, &w, true))
		return;
	enum store_status st = store_ss_branches(c->store, &w, &names);
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return;
	}
	json_t *arr = ss_string_array(names.items, names.n);
	ss_names_release(&names);
	ss_json(c, 200, arr ? json_pack("{s:o}", "branches", arr) : NULL);
}

/* ---- GET .../commits?ref= ---- */

static json_t *commit_json(const struct ss_commit *cm)
{
	char date[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(cm->authored_at, date);
	return json_pack("{s:s, s:s, s:s}", "sha", cm->sha, "message",
	                 cm->message ? cm->message : "", "authored_date", date);
}

void ss_commits_list(struct call *c)
{
	struct ss_where w;
	struct ss_commit *list = NULL;
	size_t n = 0;
	bool bad = false;

	if (!ss_repo_where(c, &w, true))
		return;
	char *ref = call_query_take(c, "ref", &bad);
	const char *why = ref != NULL ? names_git_ref(ref) : NULL;
	if (bad || why != NULL) {
		char reason[160];
		snprintf(reason, sizeof(reason), "query ref: %s",
		         bad ? "not valid percent-encoding" : why);
		free(ref);
		ss_bad_param(c, reason);
		return;
	}
	enum store_status st = store_ss_commits(c->store, &w, ref, &list, &n);
	free(ref);
	if (st != STORE_OK) {
		ss_store_error(c, st);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr, commit_json(&list[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	ss_commit_list_free(list, n);
	ss_json(c, 200, arr ? json_pack("{s:o}", "commits", arr) : NULL);
}

/* ---- POST .../commits (tagd extension) ---- */

static void commit_create_finish(struct call *c, struct store_op *op)
{
	struct ss_commit_create_op *o = &((struct ss_deferred *)c->handler_ctx)->u.commit_create;

	if (op->status == STORE_OK) {
		ss_json(c, 201, commit_json(&o->out));
		ss_commit_release(&o->out);
	} else {
		ss_store_error(c, op->status);
		if (op->status == STORE_CONFLICT)
			call_set_reason(c,
			                "nothing new to record: the project knows the SHA (and it "
			                "is already the head of the branch given)");
	}
	ss_deferred_end(c);
}

/* Copy a 40-hex SHA in lower case into out; false when text is not one. */
static bool sha_normalize(const char *text, char out[SS_SHA_LEN + 1])
{
	if (strlen(text) != SS_SHA_LEN || strspn(text, "0123456789abcdefABCDEF") != SS_SHA_LEN)
		return false;
	for (size_t i = 0; i <= SS_SHA_LEN; i++) {
		char ch = text[i];
		out[i] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
	}
	return true;
}

void ss_commit_create(struct call *c)
{
	struct body_field f[] = {
	        {.name = "sha", .kind = BODY_STRING, .required = true},
	        {.name = "message", .kind = BODY_STRING, .required = true},
	        {.name = "authored_date", .kind = BODY_STRING, .nullable = true},
	        {.name = "branch", .kind = BODY_STRING, .nullable = true},
	};
	struct ss_where w;
	char sha[SS_SHA_LEN + 1];
	int64_t authored = clock_now_us();

	if (!ss_repo_where(c, &w, true))
		return;
	json_t *body = ss_read_body(c, f, 4);
	if (body == NULL)
		return;
	const char *why = NULL;
	if (!sha_normalize(f[0].str, sha))
		why = "request body: sha is not 40 hex digits";
	else if (f[2].str != NULL && !clock_parse_rfc3339(f[2].str, &authored))
		why = "request body: authored_date is not an RFC 3339 time";
	else if (f[3].str != NULL && names_git_ref(f[3].str) != NULL)
		why = "request body: branch is not a valid git ref name";
	if (why != NULL) {
		json_decref(body);
		ss_bad_param(c, why);
		return;
	}
	struct ss_deferred *d = ss_deferred_new(c, body, NULL);
	if (d == NULL)
		return;
	struct ss_commit_create_op *o = &d->u.commit_create;
	ss_commit_create_op_init(o);
	o->where = w;
	memcpy(o->sha, sha, sizeof(o->sha));
	o->message = f[1].str;
	o->authored_at = authored;
	o->branch = f[3].str;
	call_defer(c, &o->op, commit_create_finish);
}
