/*
 * store_rule - the protection rules of tag names (rule.h): per organization
 * (every tag of it: repositories, legacy commit tags, ServiceStage
 * projects), per Vers repository and per ServiceStage project.
 *
 * Adding or removing a rule is an event of the organization's history chain
 * (history.h), written under the chain's lock as tag changes are: a tag
 * change that commits after a rule was added obeys it, on every node.  The
 * rules are enforced where every tag changes (src/store/store_tag.c), so no
 * route, legacy commit tag or cascade escapes them.  A repository's rules
 * are removed with it (each removal an event).
 *
 * Results own their strings: release them with the matching function.
 * Functions return STORE_OK or a status and allocate nothing on error.
 */
#ifndef TAGD_STORE_RULE_H
#define TAGD_STORE_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "rule.h"
#include "store.h"
#include "store_ss.h"

#define STORE_RULES_MAX 100 /* rules of one organization, repository or project */

struct store_rule {
	enum history_scope scope; /* HISTORY_SCOPE_ORGANIZATION, _REPOSITORY or _SERVICESTAGE */
	char *scope_name;         /* "", the repository, "namespace/project" */
	char *pattern;
	enum rule_mode mode;
	int64_t created_at;
	int64_t seq; /* the history event that added it */
};

void store_rule_release(struct store_rule *r);

/* Free a list of rules and NULL *list. */
void store_rule_list_free(struct store_rule **list, size_t n);

/* Which rules a call means: an organization's own, a repository's or a project's. */
struct store_rule_where {
	enum history_scope scope; /* as struct store_rule's */
	int64_t org_id;
	const char *repo;   /* HISTORY_SCOPE_REPOSITORY: the repository's name */
	struct ss_where ss; /* HISTORY_SCOPE_SERVICESTAGE: the project, as tag calls name it */
};

/*
 * Add a rule (pattern checked by the caller with rule_pattern_check).  Out:
 * the rule.  STORE_REPO_NOT_FOUND (the repository, or the project or its
 * namespace), STORE_FORBIDDEN (X-Repo-Auth does not cover the namespace),
 * STORE_CONFLICT (a rule of that pattern is there), STORE_INVALID
 * (STORE_RULES_MAX rules are there already).
 */
struct store_rule_add_op {
	struct store_op op;
	struct store_rule_where where;
	const char *pattern;
	enum rule_mode mode;
	struct store_actor actor;
	struct store_rule out;
};
void store_rule_add_op_init(struct store_rule_add_op *o);

/* Remove the rule of pattern.  STORE_NOT_FOUND when there is none; the others as add's. */
struct store_rule_remove_op {
	struct store_op op;
	struct store_rule_where where;
	const char *pattern;
	struct store_actor actor;
};
void store_rule_remove_op_init(struct store_rule_remove_op *o);

/*
 * The rules of where's scope alone, by pattern (byte order).  The statuses
 * of add for a missing scope.  *out is freed with store_rule_list_free.
 */
enum store_status store_rule_list(struct store *s, const struct store_rule_where *w,
                                  struct store_rule **out, size_t *n);

/* Every rule of an organization: its own first, then by scope name and pattern. */
enum store_status store_rule_list_all(struct store *s, int64_t org_id, struct store_rule **out,
                                      size_t *n);

#endif
