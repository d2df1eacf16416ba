/*
 * test_pool_spot.c - what each spot check line means (pool_spot_take, pool_spot_parse.c): the
 * lines sshd-pool's command prints (sshd-pool/ops.c ops_cmd_spot_check) and lines a worker
 * could print instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pool_spot_parse.h"

struct spot_case {
	const char *out;
	enum pool_spot_kind kind;
	const char *action, *time, *why, *rest;
};

/* An Azure driver's instance id: the VM's ARM resource id, whose last part is its name. */
#define VM_ID                                                                                    \
	"/subscriptions/sub-1/resourceGroups/zzzzz/providers/Microsoft.Compute/virtualMachines/" \
	"compute-0123456789abcdef-zzzzz"
#define VM_NAME "compute-0123456789abcdef-zzzzz"

/* id: the worker's instance id. */
static void
check_id(const struct spot_case *c, const char *id)
{
	char buf[2048];
	struct pool_spot s;
	char *rest;

	snprintf(buf, sizeof(buf), "%s", c->out);
	rest = pool_spot_take(buf, id, &s);
	print_message("%s\n", c->out);
	assert_int_equal(s.kind, c->kind);
	assert_string_equal(rest, c->rest);
	if (c->action)
		assert_string_equal(s.action, c->action);
	if (c->time)
		assert_string_equal(s.time, c->time);
	if (c->why)
		assert_string_equal(s.why, c->why);
}

static void
check(const struct spot_case *c)
{
	check_id(c, VM_ID);
}

static void
test_notice(void **st)
{
	(void)st;
	/* EC2's own format (docs: spot-instance-termination-notices), then crunch-run's lines. */
	check(&(struct spot_case){
		"adc-spot action {\"action\": \"terminate\", \"time\": \"2026-12-06T10:42:00Z\"} "
		"200\nzzzzz-dz642-0123456789abcde\n",
		POOL_SPOT_NOTICE, "terminate", "2026-12-06T10:42:00Z", NULL,
		"zzzzz-dz642-0123456789abcde\n" });
	check(&(struct spot_case){ "adc-spot action {\"action\":\"stop\",\"time\":\"x\"} 200",
				   POOL_SPOT_NOTICE, "stop", "x", NULL, "" });
	check(&(struct spot_case){ "adc-spot action {  \"action\" : \"hibernate\" ,  \"time\" : "
				   "\"2026-12-06T10:42:00Z\" } "
				   "  200\n",
				   POOL_SPOT_NOTICE, "hibernate", "2026-12-06T10:42:00Z", NULL,
				   "" });
	/* Another action is still a notice (the instance goes), counted as "other"; a time
	 * with characters outside RFC 3339's is dropped, not shown. */
	check(&(struct spot_case){
		"adc-spot action {\"action\": \"reboot\", \"time\": \"soon; rm -rf /\"} 200\n",
		POOL_SPOT_NOTICE, "other", "", NULL, "" });
	check(&(struct spot_case){ "adc-spot action {\"action\": \"terminate\"} 200\nbroken\n",
				   POOL_SPOT_NOTICE, "terminate", "", NULL, "broken\n" });
}

static void
test_no_notice(void **st)
{
	(void)st;
	/* The 404 of EC2 (its body is an HTML page or empty: either way, no notice). */
	check(&(struct spot_case){ "adc-spot action  404\n", POOL_SPOT_NONE, NULL, NULL, NULL,
				   "" });
	check(&(struct spot_case){
		"adc-spot action <?xml version=\"1.0\"?> <html> <title>404 - Not Found</title> "
		"</html> 404\nzzzzz-dz642-0123456789abcde stale\n",
		POOL_SPOT_NONE, NULL, NULL, NULL, "zzzzz-dz642-0123456789abcde stale\n" });
	check(&(struct spot_case){ "adc-spot no-curl\nzzzzz-dz642-0123456789abcde\n",
				   POOL_SPOT_NO_CURL, NULL, NULL, NULL,
				   "zzzzz-dz642-0123456789abcde\n" });
}

static void
test_errors(void **st)
{
	(void)st;
	check(&(struct spot_case){ "adc-spot token 000\n", POOL_SPOT_ERROR, NULL, NULL,
				   "no IMDSv2 token (HTTP 000)", "" });
	check(&(struct spot_case){ "adc-spot token 401\nbroken\n", POOL_SPOT_ERROR, NULL, NULL,
				   "no IMDSv2 token (HTTP 401)", "broken\n" });
	check(&(struct spot_case){ "adc-spot action Unauthorized 401\n", POOL_SPOT_ERROR, NULL,
				   NULL, "instance-action answered HTTP 401", "" });
	check(&(struct spot_case){ "adc-spot action not json 200\n", POOL_SPOT_ERROR, NULL, NULL,
				   "instance-action answered 200 without a notice", "" });
	check(&(struct spot_case){ "adc-spot action [\"terminate\"] 200\n", POOL_SPOT_ERROR, NULL,
				   NULL, "instance-action answered 200 without a notice", "" });
	check(&(struct spot_case){ "adc-spot action {\"action\": \"terminate\"} 2000\n",
				   POOL_SPOT_ERROR, NULL, NULL,
				   "spot check line without an HTTP status", "" });
	check(&(struct spot_case){ "adc-spot token \n", POOL_SPOT_ERROR, NULL, NULL,
				   "unrecognized spot check line", "" });
	/* Not our line first (a shell that printed nothing for it): everything is
	 * crunch-run's, and nothing is cut. */
	check(&(struct spot_case){ "zzzzz-dz642-0123456789abcde\nadc-spot action {\"action\": "
				   "\"terminate\"} 200\n",
				   POOL_SPOT_MISSING, NULL, NULL,
				   "the probe printed no spot check line",
				   "zzzzz-dz642-0123456789abcde\nadc-spot action {\"action\": "
				   "\"terminate\"} 200\n" });
	check(&(struct spot_case){ "", POOL_SPOT_MISSING, NULL, NULL, NULL, "" });
}

/* Azure's Scheduled Events (learn.microsoft.com, "Scheduled Events for Linux VMs"): the
 * document as the service writes it, one line (sshd-pool turns its newlines into spaces). */
#define EV(type, status, res, nb)                                                               \
	"{\"EventId\": \"602d9444-d2cd-49c7-8624-8643e7171297\", \"EventType\": \"" type "\", " \
	"\"ResourceType\": \"VirtualMachine\", \"Resources\": [" res                            \
	"], \"EventStatus\": \"" status "\", \"NotBefore\": \"" nb                              \
	"\", \"Description\": \"\", \"EventSource\": "                                          \
	"\"Platform\", \"DurationInSeconds\": -1}"
#define DOC(n, evs) "{\"DocumentIncarnation\": " n ", \"Events\": [" evs "]}"

static void
test_azure_notice(void **st)
{
	(void)st;
	/* A Preempt naming this VM (30 s ahead): the notice, its NotBefore as RFC 3339. */
	check(&(struct spot_case){
		"adc-spot events " DOC(
			"2",
			EV("Preempt", "Scheduled", "\"" VM_NAME "\"",
			   "Mon, 19 Sep 2016 18:29:47 GMT")) " 200\nzzzzz-dz642-0123456789abcde\n",
		POOL_SPOT_NOTICE, "preempt", "2016-09-19T18:29:47Z", NULL,
		"zzzzz-dz642-0123456789abcde\n" });
	/* Started (NotBefore blank, as the service leaves it), among other VMs and events; the
	 * name in another case (Azure's names are case-insensitive). */
	check(&(struct spot_case){
		"adc-spot events " DOC(
			"5", EV("Reboot", "Scheduled", "\"" VM_NAME "\"",
				"Mon, 19 Sep 2016 18:29:47 GMT") ", " EV("Preempt", "Started",
									 "\"other-vm\", "
									 "\"COMPUTE-"
									 "0123456789ABCDEF-ZZZZZ\"",
									 "")) " 200\n",
		POOL_SPOT_NOTICE, "preempt", "", NULL, "" });
	/* A NotBefore in another format is dropped, the notice kept. */
	check(&(struct spot_case){
		"adc-spot events " DOC("1", EV("Preempt", "Scheduled", "\"" VM_NAME "\"",
					       "2016-09-19T18:29:47Z")) " 200",
		POOL_SPOT_NOTICE, "preempt", "", NULL, "" });
	/* A bare name as the id (no '/') is the name itself. */
	check_id(
		&(struct spot_case){
			"adc-spot events " DOC("1", EV("Preempt", "Scheduled", "\"vm1\"",
						       "Tue, 01 Dec 2026 10:00:00 GMT")) " 200",
			POOL_SPOT_NOTICE, "preempt", "2026-12-01T10:00:00Z", NULL, "" },
		"vm1");
}

static void
test_azure_no_notice(void **st)
{
	(void)st;
	/* No event at all: the service's usual answer. */
	check(&(struct spot_case){ "adc-spot events {\"DocumentIncarnation\":0,\"Events\":[]} "
				   "200\nzzzzz-dz642-0123456789abcde\n",
				   POOL_SPOT_NONE, NULL, NULL, NULL,
				   "zzzzz-dz642-0123456789abcde\n" });
	/* Another VM's Preempt (an availability set's events reach all its VMs). */
	check(&(struct spot_case){
		"adc-spot events " DOC("3", EV("Preempt", "Scheduled",
					       "\"compute-0123456789abcdef-zzzzy\"",
					       "Mon, 19 Sep 2016 18:29:47 GMT")) " 200\n",
		POOL_SPOT_NONE, NULL, NULL, NULL, "" });
	/* Terminate (a deletion someone asked for), Reboot, Redeploy, Freeze: no notice. */
	check(&(struct spot_case){
		"adc-spot events " DOC(
			"4",
			EV("Terminate", "Scheduled", "\"" VM_NAME "\"",
			   "Mon, 19 Sep 2016 18:29:47 GMT") "," EV("Redeploy", "Scheduled",
								   "\"" VM_NAME "\"",
								   "") "," EV("Freeze", "Started",
									      "\"" VM_NAME "\"",
									      "")) " 200\n",
		POOL_SPOT_NONE, NULL, NULL, NULL, "" });
	/* A Preempt whose Resources is not a list of names, or an empty id: not this VM's. */
	check(&(struct spot_case){ "adc-spot events {\"Events\": [{\"EventType\": \"Preempt\", "
				   "\"Resources\": \"" VM_NAME "\"}]} 200",
				   POOL_SPOT_NONE, NULL, NULL, NULL, "" });
	check_id(&(struct spot_case){ "adc-spot events " DOC(
					      "1", EV("Preempt", "Scheduled", "\"\"", "")) " 200",
				      POOL_SPOT_NONE, NULL, NULL, NULL, "" },
		 "/virtualMachines/");
}

static void
test_azure_errors(void **st)
{
	(void)st;
	/* The service's refusal of a request without "Metadata: true". */
	check(&(struct spot_case){ "adc-spot events {\"error\": \"Bad request. Required metadata "
				   "header not specified\"} 400\nbroken\n",
				   POOL_SPOT_ERROR, NULL, NULL, "scheduledevents answered HTTP 400",
				   "broken\n" });
	check(&(struct spot_case){ "adc-spot events  000\n", POOL_SPOT_ERROR, NULL, NULL,
				   "scheduledevents answered HTTP 000", "" });
	check(&(struct spot_case){ "adc-spot events {\"DocumentIncarnation\": 1} 200\n",
				   POOL_SPOT_ERROR, NULL, NULL,
				   "scheduledevents answered 200 without an Events list", "" });
	check(&(struct spot_case){ "adc-spot events [] 200\n", POOL_SPOT_ERROR, NULL, NULL,
				   "scheduledevents answered 200 without an Events list", "" });
	check(&(struct spot_case){ "adc-spot events {\"Events\": {}} 200\n", POOL_SPOT_ERROR, NULL,
				   NULL, "scheduledevents answered 200 without an Events list",
				   "" });
	check(&(struct spot_case){ "adc-spot events {\"Events\": []} 20\n", POOL_SPOT_ERROR, NULL,
				   NULL, "spot check line without an HTTP status", "" });
	check(&(struct spot_case){ "adc-spot events\n", POOL_SPOT_ERROR, NULL, NULL,
				   "unrecognized spot check line", "" });
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notice),		cmocka_unit_test(test_no_notice),
		cmocka_unit_test(test_errors),		cmocka_unit_test(test_azure_notice),
		cmocka_unit_test(test_azure_no_notice), cmocka_unit_test(test_azure_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
