/* A plan (a plan file: /plan, /<tenant>/plan): what a spec.yaml document
 * would do, worked out step by step on a copy of the model (the state as
 * state.yaml has it, with what libvirt last told of each VM), through the
 * same checks a real step makes first. Nothing of the copy is saved or
 * made on a cloud: the clouds are only asked what they hold (whether they
 * answer, their room, a VM's disk, an image). Each step shows its cost
 * (bytes a move copies, live or cold) and the concern that would stop it
 * (a target without room, a cloud down, an image missing on the target,
 * a VM whose subnet cannot follow it). spec.c decides the steps. */
#ifndef MAAS_PLAN_H
#define MAAS_PLAN_H

#include "../lib/util.h"
#include "model.h"
#include "node.h"

/* What a step does; PLAN_VERB: the verb itself runs on the copy (its
 * clouds' part is skipped there: plan_copy). */
enum plan_kind {
	PLAN_VERB,
	PLAN_MKDIR,          /* a tenant, a subnet's DHCP, a VM */
	PLAN_RMDIR,
	PLAN_SUBNET_NEW,     /* value: subnets/new's line */
	PLAN_SUBNET_CLOUD,   /* a subnet's move: value, the cloud */
	PLAN_VM_START,
	PLAN_VM_STOP,
	PLAN_VM_SET,         /* node.file: the attribute; num or value */
	PLAN_VM_LOCATION,    /* value: the cloud */
};

struct plan_step {
	enum plan_kind kind;
	const char *op;             /* "mkdir", "rmdir", "write" */
	const char *path;           /* node_path of node */
	const struct node *node;
	const char *value;          /* as the event shows it, or "" */
	uint64_t num;               /* a number's value */
};

struct plan;

/* A plan on a copy of m, made under m's lock. */
int plan_new(struct model *m, struct plan **out, char *err);
void plan_free(struct plan *p);
/* The copy, which the steps are decided against. */
struct model *plan_model(struct plan *p);
/* Step s, judged and done on the copy: 0, or the -errno of its concern
 * (recorded with it; the copy stays as it was for that step). */
int plan_step(struct plan *p, const struct plan_step *s);
/* A step of kind PLAN_VERB that ran on the copy with result r, why. */
int plan_ran(struct plan *p, const struct plan_step *s, int r,
	     const char *why);
/* The plan: its steps in order, their costs and concerns, as YAML; of:
 * the document's file ("spec.yaml", "tenantA/spec.yaml"). */
void plan_show(const struct plan *p, const char *of, struct strbuf *out);
/* The plan file of a document spec.yaml refuses whole (code: its errno,
 * why): no step, the refusal. */
void plan_show_refused(const char *of, int code, const char *why,
		       struct strbuf *out);
/* 0 without concerns, else the first one's -errno, and "step N (OP PATH
 * VALUE): why" in err. */
int plan_concern(const struct plan *p, char *err);

#endif
