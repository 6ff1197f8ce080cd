/*
 * Unit tests of task/: the task YAML loader. Table-driven (after curl's
 * unit1302): good files with the expected parse rendered as one line, bad
 * files with the exact message fragment (file:line:col, field, suggestion).
 */
#include "core/common.h"
#include "core/strbuf.h"
#include "task/task.h"

#include <setjmp.h>
#include <cmocka.h>

static void amount(struct strbuf *sb, const char *name,
                   const struct task_amount *a)
{
    static const char *const suffix[] = {"", "", "+", "x"};
    if (a->kind != TASK_AMOUNT_ANY)
        strbuf_addf(sb, " %s=%g%s", name, a->value, suffix[a->kind]);
}

static void kvs(struct strbuf *sb, const char *name, const struct task_kv *kv,
                size_t n)
{
    if (!n)
        return;
    strbuf_addf(sb, " %s(", name);
    for (size_t i = 0; i < n; i++)
        strbuf_addf(sb, "%s%s=%s", i ? "," : "", kv[i].key, kv[i].value);
    strbuf_addch(sb, ')');
}

static void res(struct strbuf *sb, const struct task_resources *r)
{
    strbuf_addstr(sb, " {");
    if (r->cloud || r->region || r->zone)
        strbuf_addf(sb, " %s/%s/%s", r->cloud ? r->cloud : "*",
                    r->region ? r->region : "*", r->zone ? r->zone : "*");
    if (r->instance_type)
        strbuf_addf(sb, " it=%s", r->instance_type);
    amount(sb, "cpus", &r->cpus);
    amount(sb, "mem", &r->memory_gb);
    if (r->accelerator)
        strbuf_addf(sb, " %s:%g", r->accelerator, r->accelerator_count);
    if (r->use_spot)
        strbuf_addstr(sb, " spot");
    if (r->disk_size_gb)
        strbuf_addf(sb, " disk=%g", r->disk_size_gb);
    if (r->disk_tier)
        strbuf_addf(sb, " tier=%s", r->disk_tier);
    for (size_t i = 0; i < r->nports; i++)
        strbuf_addf(sb, "%s%s", i ? "," : " ports=", r->ports[i]);
    if (r->image_id)
        strbuf_addf(sb, " image=%s", r->image_id);
    kvs(sb, "labels", r->labels, r->nlabels);
    if (r->max_hourly_cost)
        strbuf_addf(sb, " cost=%g", r->max_hourly_cost);
    if (r->job_recovery)
        strbuf_addf(sb, " rec=%s", r->job_recovery);
    if (r->max_restarts_on_errors)
        strbuf_addf(sb, " restarts=%ld", r->max_restarts_on_errors);
    for (size_t i = 0; i < r->nrecover_on_exit_codes; i++)
        strbuf_addf(sb, "%s%ld", i ? "," : " codes=",
                    r->recover_on_exit_codes[i]);
    strbuf_addf(sb, " @%u }", r->mark.line);
}

/* One line per dag: "name[ n=N][ ordered] {res}... [fields]; ... | edges". */
static char *render(const struct task_dag *dag)
{
    struct strbuf sb = STRBUF_INIT;
    char buf[32];
    for (size_t i = 0; i < dag->ntasks; i++) {
        const struct task *t = &dag->tasks[i];
        strbuf_addf(&sb, "%s%s", i ? "; " : "",
                    task_display_name(dag, i, buf, sizeof(buf)));
        if (t->num_nodes != 1)
            strbuf_addf(&sb, " n=%ld", t->num_nodes);
        if (t->resources_ordered)
            strbuf_addstr(&sb, " ordered");
        for (size_t j = 0; j < t->nresources; j++)
            res(&sb, &t->resources[j]);
        if (t->workdir)
            strbuf_addf(&sb, " workdir=%s", t->workdir);
        kvs(&sb, "envs", t->envs, t->nenvs);
        kvs(&sb, "secrets", t->secrets, t->nsecrets);
        kvs(&sb, "mounts", t->file_mounts, t->nfile_mounts);
        for (size_t j = 0; j < t->ninputs; j++)
            strbuf_addf(&sb, " in(%s=%g)", t->inputs[j].path, t->inputs[j].gb);
        for (size_t j = 0; j < t->noutputs; j++)
            strbuf_addf(&sb, " out(%s=%g)", t->outputs[j].path,
                        t->outputs[j].gb);
        if (t->estimated_hours)
            strbuf_addf(&sb, " hours=%g", t->estimated_hours);
        if (t->setup)
            strbuf_addf(&sb, " setup=%s", t->setup);
        if (t->run)
            strbuf_addf(&sb, " run=%s", t->run);
    }
    strbuf_addstr(&sb, " |");
    for (size_t i = 0; i < dag->nedges; i++)
        strbuf_addf(&sb, " %zu>%zu", dag->edges[i].from, dag->edges[i].to);
    return strbuf_detach(&sb, NULL);
}

static const struct {
    const char *yaml;
    const char *want;
} good[] = {
    /* minimal, defaults, empty documents */
    {"run: echo hello\n", "task-0 { @1 } run=echo hello |"},
    {"---\n---\nname: a\n---\n", "a { @3 } |"},
    {"name: a\nresources:\n", "a { @1 } |"},
    /* scalars of every top-level field */
    {"name: t\nworkdir: ~/code\nnum_nodes: 4\nsetup: pip install x\n"
     "run: |\n  python a.py\n",
     "t n=4 { @1 } workdir=~/code setup=pip install x run=python a.py\n |"},
    {"envs:\n  A: 1\n  B: text\n  C: 2.5\n  D:\nsecrets: {TOKEN: abc}\n",
     "task-0 { @1 } envs(A=1,B=text,C=2.5,D=) secrets(TOKEN=abc) |"},
    {"file_mounts:\n  /data: s3://bucket\n  /ckpt:\n    source: gs://b2\n"
     "    mode: MOUNT\n  /named:\n    name: my-store\n    store: s3\n",
     "task-0 { @1 } mounts(/data=s3://bucket,/ckpt=gs://b2,/named=my-store) |"},
    {"inputs: {s3://in: 100}\noutputs:\n  s3://out: 2.5\n  s3://log: 0.5\n",
     "task-0 { @1 } in(s3://in=100) out(s3://out=2.5) out(s3://log=0.5) |"},
    {"estimated_hours: 3h\n", "task-0 { @1 } hours=3 |"},
    {"estimated_hours: 90m\n", "task-0 { @1 } hours=1.5 |"},
    {"estimated_hours: 2.5\n", "task-0 { @1 } hours=2.5 |"},
    /* infra forms */
    {"resources:\n  infra: gcp\n", "task-0 { gcp/*/* @2 } |"},
    {"resources:\n  infra: GCP/us-central1\n",
     "task-0 { gcp/us-central1/* @2 } |"},
    {"resources:\n  infra: gcp/us-central1/us-central1-a\n",
     "task-0 { gcp/us-central1/us-central1-a @2 } |"},
    {"resources:\n  infra: '*/us-east-1'\n", "task-0 { */us-east-1/* @2 } |"},
    {"resources:\n  infra: aws/*/us-east-1a\n",
     "task-0 { aws/*/us-east-1a @2 } |"},
    {"resources:\n  cloud: AWS\n  region: us-east-1\n  zone: us-east-1a\n",
     "task-0 { aws/us-east-1/us-east-1a @2 } |"},
    /* cpus and memory */
    {"resources: {cpus: 4, memory: 16}\n", "task-0 { cpus=4 mem=16 @1 } |"},
    {"resources: {cpus: 4+, memory: 32+}\n",
     "task-0 { cpus=4+ mem=32+ @1 } |"},
    {"resources: {cpus: 0.5, memory: \"4x\"}\n",
     "task-0 { cpus=0.5 mem=4x @1 } |"},
    /* accelerators in every form */
    {"resources: {accelerators: A100:8}\n", "task-0 { A100:8 @1 } |"},
    {"resources: {accelerators: A100}\n", "task-0 { A100:1 @1 } |"},
    {"resources: {accelerators: T4:0.5}\n", "task-0 { T4:0.5 @1 } |"},
    {"resources: {accelerators: {A100: 8}}\n", "task-0 { A100:8 @1 } |"},
    {"resources:\n  accelerators: [A100:8, V100:8]\n",
     "task-0 ordered { A100:8 @2 } { V100:8 @2 } |"},
    {"resources:\n  accelerators: {A100: 8, V100: 4}\n",
     "task-0 { A100:8 @2 } { V100:4 @2 } |"},
    {"resources:\n  accelerators: {A100:8, V100:4}\n",
     "task-0 { A100:8 @2 } { V100:4 @2 } |"},
    {"resources:\n  accelerators: {T4: }\n", "task-0 { T4:1 @2 } |"},
    /* other resource fields */
    {"resources:\n  use_spot: true\n  disk_size: 256\n  disk_tier: MEDIUM\n"
     "  image_id: ami-1\n  instance_type: p3.2xlarge\n"
     "  max_hourly_cost: 3.5\n",
     "task-0 { it=p3.2xlarge spot disk=256 tier=medium image=ami-1 cost=3.5 @2 "
     "} |"},
    {"resources: {ports: 8080}\n", "task-0 { ports=8080 @1 } |"},
    {"resources: {ports: \"10000-10010\"}\n",
     "task-0 { ports=10000-10010 @1 } |"},
    {"resources: {ports: [22, 8080-8081]}\n",
     "task-0 { ports=22,8080-8081 @1 } |"},
    {"resources:\n  labels: {team: ml, n: 3}\n",
     "task-0 { labels(team=ml,n=3) @2 } |"},
    {"resources: {job_recovery: failover}\n",
     "task-0 { rec=FAILOVER @1 } |"},
    {"resources:\n  job_recovery:\n    strategy: EAGER_NEXT_REGION\n"
     "    max_restarts_on_errors: 3\n    recover_on_exit_codes: [33, 34]\n",
     "task-0 { rec=EAGER_NEXT_REGION restarts=3 codes=33,34 @2 } |"},
    {"resources:\n  job_recovery: {recover_on_exit_codes: 7}\n",
     "task-0 { codes=7 @2 } |"},
    {"resources:\n  accelerator_args: {runtime_version: x}\n"
     "  autostop: {idle_minutes: 10}\n  network_tier: best\n",
     "task-0 { @2 } |"},
    /* any_of / ordered merge over the base */
    {"resources:\n  accelerators: A100:8\n  use_spot: true\n  any_of:\n"
     "    - infra: aws/us-east-1\n    - cloud: gcp\n      accelerators: H100:8\n",
     "task-0 { aws/us-east-1/* A100:8 spot @5 } { gcp/*/* H100:8 spot @6 } |"},
    {"resources:\n  infra: aws/us-east-1\n  cpus: 8\n  ordered:\n"
     "    - infra: gcp\n    - cpus: 16\n",
     "task-0 ordered { gcp/*/* cpus=8 @5 } { aws/us-east-1/* cpus=16 @6 } |"},
    {"resources:\n  accelerators: {A100: 8, V100: 8}\n  any_of:\n"
     "    - infra: aws\n    - infra: gcp\n",
     "task-0 { aws/*/* A100:8 @4 } { aws/*/* V100:8 @4 } { gcp/*/* A100:8 @5 } "
     "{ gcp/*/* V100:8 @5 } |"},
    {"resources:\n  any_of:\n    - {accelerators: [A100:1]}\n",
     "task-0 { A100:1 @3 } |"},
    /* pipelines and DAGs */
    {"name: a\n---\nname: b\n---\nrun: x\n",
     "a { @1 }; b { @3 }; task-2 { @5 } run=x | 0>1 1>2"},
    {"name: a\n---\nname: b\n", "a { @1 }; b { @3 } | 0>1"},
    {"name: c\ndepends_on: [a, b]\n---\nname: a\n---\nname: b\n"
     "---\nname: d\ndepends_on: a\n",
     "a { @4 }; b { @6 }; c { @1 }; d { @8 } | 0>2 0>3 1>2"},
    {"name: a\n---\nname: b\ndepends_on: []\n---\nname: c\ndepends_on: [a]\n",
     "a { @1 }; b { @3 }; c { @6 } | 0>2"},
    {"name: b\ndepends_on: [a, a]\n---\nname: a\n", "a { @4 }; b { @1 } | 0>1"},
    /* anchors and aliases are followed */
    {"resources:\n  labels: &l {a: b}\n  any_of:\n    - labels: *l\n",
     "task-0 { labels(a=b) @4 } |"},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        struct task_dag dag;
        struct skyc_error err = {0};
        enum skyc_err rc = task_dag_load_string(
            &dag, good[i].yaml, strlen(good[i].yaml), "t.yaml", &err);
        if (rc != SKYC_OK) {
            print_error("good[%zu]: %s\n", i, err.msg);
            fail();
        }
        char *got = render(&dag);
        if (strcmp(got, good[i].want)) {
            print_error("good[%zu]:\n got: %s\nwant: %s\n", i, got,
                        good[i].want);
            free(got);
            task_dag_release(&dag);
            fail();
        }
        free(got);
        task_dag_release(&dag);
    }
}

static const struct {
    const char *yaml;
    const char *want; /* the whole message after "t.yaml:" */
} bad[] = {
    {"", "1:1: no task in the file (it is empty or has only empty "
         "documents)"},
    {"---\n---\n", "1:1: no task in the file"},
    {"# only a comment\n", "1:1: no task in the file"},
    /* syntax errors from libyaml */
    {"name: a\n  run: b\n", "2:6: mapping values are not allowed in this "
                            "context"},
    {"name: [a\n", "2:1: did not find expected ',' or ']' (while parsing a "
                   "flow sequence at 1:7)"},
    {"run: *nope\n", "1:6: found undefined alias"},
    {"run: \"\xff\"\n", "1:7: invalid leading UTF-8 octet (the file must be "
                        "UTF-8 text)"},
    /* the document shape */
    {"- a\n- b\n", "1:1: task: expected a mapping of fields, got a list"},
    {"hello\n", "1:1: task: expected a mapping of fields, got 'hello'"},
    {"[a]: b\n", "1:1: task: expected a field name, got a list"},
    /* typos get the nearest key */
    {"name: a\nresorces:\n  cpus: 4\n",
     "2:1: unknown field 'resorces' in task (did you mean 'resources'?)"},
    {"nmae: a\n", "1:1: unknown field 'nmae' in task (did you mean 'name'?)"},
    {"frobnicate: 1\n", "1:1: unknown field 'frobnicate' in task"},
    {"resources:\n  accelerator: A100\n",
     "2:3: unknown field 'accelerator' in resources (did you mean "
     "'accelerators'?)"},
    {"resources:\n  any_of:\n    - clod: aws\n",
     "3:7: unknown field 'clod' in resources.any_of[0] (did you mean "
     "'cloud'?)"},
    {"resources:\n  job_recovery:\n    stratgy: FAILOVER\n",
     "3:5: unknown field 'stratgy' in resources.job_recovery (did you mean "
     "'strategy'?)"},
    {"file_mounts:\n  /d:\n    sorce: s3://x\n",
     "3:5: unknown field 'sorce' in file_mounts./d (did you mean "
     "'source'?)"},
    {"name: a\nname: b\n", "2:1: task: 'name' given twice (first at 1:1)"},
    /* clouds, tiers, strategies */
    {"resources:\n  cloud: gpc\n",
     "2:10: resources.cloud: unknown cloud 'gpc' (did you mean 'gcp'?)"},
    {"resources:\n  infra: awz/us-east-1\n",
     "2:10: resources.infra: unknown cloud 'awz' (did you mean 'aws'?)"},
    {"resources:\n  infra: oracle\n",
     "2:10: resources.infra: unknown cloud 'oracle' (known: aws, gcp"},
    {"resources:\n  infra: a/b/c/d\n",
     "2:10: resources.infra: expected CLOUD[/REGION[/ZONE]], got 'a/b/c/d'"},
    {"resources:\n  infra: aws//z\n",
     "2:10: resources.infra: empty part in 'aws//z' (write '*' for any)"},
    {"resources:\n  infra: aws\n  region: us-east-1\n",
     "3:3: resources: give either infra or cloud/region/zone, not both"},
    {"resources:\n  disk_tier: turbo\n",
     "2:14: resources.disk_tier: unknown disk tier 'turbo' (known: low"},
    {"resources:\n  disk_tier: hihg\n",
     "2:14: resources.disk_tier: unknown disk tier 'hihg' (did you mean "
     "'high'?)"},
    {"resources:\n  job_recovery: failovr\n",
     "2:17: resources.job_recovery: unknown strategy 'failovr' (did you "
     "mean 'FAILOVER'?)"},
    /* wrong types and values */
    {"name: [a, b]\n", "1:7: name: expected a string, got a list"},
    {"num_nodes: -1\n",
     "1:12: num_nodes: expected a whole number from 1 to 100000, got '-1'"},
    {"num_nodes: 0\n", "1:12: num_nodes: expected a whole number from 1"},
    {"num_nodes: 1.5\n", "1:12: num_nodes: expected a whole number"},
    {"num_nodes: {a: 1}\n",
     "1:12: num_nodes: expected a whole number, got a mapping"},
    {"resources:\n  cpus: many\n",
     "2:9: resources.cpus: expected a number like 4 or \"4+\", got 'many'"},
    {"resources:\n  cpus: 4x\n", "2:9: resources.cpus: expected a number"},
    {"resources:\n  cpus: 0\n", "2:9: resources.cpus: expected a number"},
    {"resources:\n  memory: abc\n",
     "2:11: resources.memory: expected a number like 16, \"16+\" or \"4x\", "
     "got 'abc'"},
    {"resources:\n  memory: [1]\n",
     "2:11: resources.memory: expected a number like 16, \"16+\" or \"4x\", "
     "got a list"},
    {"resources:\n  accelerators: A100:-1\n",
     "2:17: resources.accelerators: bad accelerator count in 'A100:-1' "
     "(expected NAME:COUNT with COUNT > 0, like 'A100:8')"},
    {"resources:\n  accelerators: A100:0\n",
     "2:17: resources.accelerators: bad accelerator count in 'A100:0'"},
    {"resources:\n  accelerators: \":8\"\n",
     "2:17: resources.accelerators: missing accelerator name in ':8'"},
    {"resources:\n  accelerators: [A100:8, [V100]]\n",
     "2:26: resources.accelerators: expected an accelerator like 'A100:8', "
     "got a list"},
    {"resources:\n  accelerators: {A100: x}\n",
     "2:24: resources.accelerators.A100: expected a number >= 0, got 'x'"},
    {"resources:\n  accelerators: {A100: 0}\n",
     "2:24: resources.accelerators.A100: accelerator count must be > 0"},
    {"resources:\n  accelerators: {A100:2: 4}\n",
     "2:18: resources.accelerators: 'A100:2' has a count twice"},
    {"resources:\n  use_spot: maybe\n",
     "2:13: resources.use_spot: expected true or false, got 'maybe'"},
    {"resources:\n  disk_size: 0\n", "2:14: resources.disk_size: must be > 0 "
                                     "GB"},
    {"resources:\n  disk_size: -5\n",
     "2:14: resources.disk_size: expected a number >= 0, got '-5'"},
    {"resources:\n  ports: 70000\n",
     "2:10: resources.ports: expected a port 1-65535 or a range like "
     "'10000-10010', got '70000'"},
    {"resources:\n  ports: 20-10\n", "2:10: resources.ports: expected a port"},
    {"resources:\n  ports: [80, {a: 1}]\n",
     "2:15: resources.ports: expected a port 1-65535 or a range like "
     "'10000-10010', got a mapping"},
    {"resources:\n  labels: [a]\n",
     "2:11: resources.labels: expected a mapping of names to values, got a "
     "list"},
    {"resources:\n  job_recovery:\n    recover_on_exit_codes: [1, 300]\n",
     "3:32: resources.job_recovery.recover_on_exit_codes: expected a whole "
     "number from 0 to 255, got '300'"},
    {"resources:\n  max_hourly_cost: cheap\n",
     "2:20: resources.max_hourly_cost: expected a number >= 0, got 'cheap'"},
    {"resources: [cpus]\n",
     "1:12: resources: expected a mapping of fields, got a list"},
    {"envs:\n  A: [1, 2]\n",
     "2:6: envs.A: expected a string or number, got a list"},
    {"envs: [A]\n",
     "1:7: envs: expected a mapping of names to values, got a list"},
    {"envs:\n  A: 1\n  A: 2\n", "3:3: envs: duplicate key 'A'"},
    {"file_mounts:\n  /d: {mode: MOUNT}\n",
     "2:7: file_mounts./d: a storage mount needs 'source' or 'name'"},
    {"file_mounts:\n  /d:\n", "2:6: file_mounts./d: missing source"},
    {"inputs: [a]\n",
     "1:9: inputs: expected a mapping of paths to sizes in GB like "
     "{s3://bucket/data: 100}, got a list"},
    {"outputs: {s3://x: big}\n",
     "1:19: outputs.s3://x: expected a number >= 0, got 'big'"},
    {"estimated_hours: soon\n",
     "1:18: estimated_hours: expected hours or a duration like '3h', '90m', "
     "'2d', got 'soon'"},
    {"estimated_hours: -3h\n", "1:18: estimated_hours: expected hours"},
    {"name: \"\"\n", "1:7: name: must not be empty"},
    /* any_of / ordered shape */
    {"resources:\n  any_of: {cloud: aws}\n",
     "2:11: resources.any_of: expected a list of resources, got a mapping"},
    {"resources:\n  any_of: [{cloud: aws}]\n  ordered: [{cloud: gcp}]\n",
     "3:3: resources: give either any_of or ordered, not both"},
    {"resources:\n  any_of:\n    - any_of: []\n",
     "3:7: resources.any_of[0]: 'any_of' cannot be nested inside any_of or "
     "ordered"},
    {"resources:\n  accelerators: [A100, V100]\n  any_of:\n"
     "    - cloud: aws\n    - cloud: gcp\n",
     "4:5: resources: cannot mix an ordered preference"},
    /* DAG errors */
    {"name: a\n---\nname: a\n",
     "3:7: name: duplicate task name 'a' (first at 1:7)"},
    {"name: train\n---\nname: eval\ndepends_on: trian\n",
     "4:13: depends_on: no task named 'trian' (did you mean 'train'?)"},
    {"name: a\ndepends_on: [zzzzzz]\n",
     "2:14: depends_on: no task named 'zzzzzz'"},
    {"name: a\ndepends_on: a\n", "2:13: depends_on: cycle a -> a"},
    {"name: a\ndepends_on: c\n---\nname: b\ndepends_on: a\n---\n"
     "name: c\ndepends_on: b\n",
     "1:1: depends_on: cycle a -> b -> c -> a"},
    {"name: x\n---\nname: a\ndepends_on: b\n---\nname: b\ndepends_on: a\n",
     "3:1: depends_on: cycle a -> b -> a"},
    {"depends_on: {a: 1}\n",
     "1:13: depends_on: expected a string or a list of strings, got a "
     "mapping"},
    {"depends_on: [[a]]\n", "1:14: depends_on[0]: expected a string, got a "
                            "list"},
    /* bounds: nesting, alias bombs */
    {"a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
     "1:67: nesting deeper than 64 levels"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct task_dag dag;
        struct skyc_error err = {0};
        enum skyc_err rc = task_dag_load_string(
            &dag, bad[i].yaml, strlen(bad[i].yaml), "t.yaml", &err);
        char want[512];
        snprintf(want, sizeof(want), "t.yaml:%s", bad[i].want);
        if (rc != SKYC_E_INPUT || strncmp(err.msg, want, strlen(want))) {
            print_error("bad[%zu]: rc %d\n got: %s\nwant: %s...\n", i, rc,
                        err.msg, want);
            task_dag_release(&dag);
            fail();
        }
        /* a failed load leaves an empty dag; release is harmless */
        assert_int_equal(dag.ntasks, 0);
        assert_null(dag.tasks);
        task_dag_release(&dag);
    }
}

/* A billion-laughs alias bomb stops at the node budget, quickly. */
static void test_alias_bomb(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "x0: &a0 {k: v}\n");
    for (int i = 1; i < 12; i++) {
        strbuf_addf(&sb, "x%d: &a%d [", i, i);
        for (int j = 0; j < 10; j++)
            strbuf_addf(&sb, "%s*a%d", j ? ", " : "", i - 1);
        strbuf_addstr(&sb, "]\n");
    }
    strbuf_addstr(&sb, "name: a\nresources:\n  any_of:\n");
    for (int j = 0; j < 1000; j++)
        strbuf_addstr(&sb, "    - labels: {a: b, c: d, e: f, g: h}\n");
    struct task_dag dag;
    struct skyc_error err = {0};
    /* the unknown key x0 stops it first: aliases in unknown keys are free */
    assert_int_equal(task_dag_load_string(&dag, sb.buf, sb.len, "t.yaml",
                                          &err),
                     SKYC_E_INPUT);
    if (!strstr(err.msg, "unknown field 'x0'"))
        print_error("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "unknown field 'x0'"));
    /* a wide any_of of labels through aliases hits the alternative cap */
    strbuf_reset(&sb);
    strbuf_addstr(&sb, "resources:\n  labels: &l {a: b}\n  ports: &p [");
    for (int j = 0; j < 2000; j++)
        strbuf_addf(&sb, "%s%d", j ? "," : "", 1000 + j);
    strbuf_addstr(&sb, "]\n  any_of:\n");
    for (int j = 0; j < 1000; j++)
        strbuf_addstr(&sb, "    - ports: *p\n");
    skyc_error_clear(&err);
    assert_int_equal(task_dag_load_string(&dag, sb.buf, sb.len, "t.yaml",
                                          &err),
                     SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "document too large"));
    strbuf_release(&sb);
}

static void test_files(void **state)
{
    (void)state;
    static const char *const examples[] = {"minimal", "train-a100",
                                           "pipeline", "dag"};
    const char *src = getenv("SKYC_SOURCE_DIR");
    char path[4096];
    struct skyc_error err = {0};
    struct task_dag dag;
    for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
        snprintf(path, sizeof(path), "%s/examples/%s.yaml",
                 src ? src : SKYC_SOURCE_DIR, examples[i]);
        if (task_dag_load_file(&dag, path, &err) != SKYC_OK) {
            print_error("%s\n", err.msg);
            fail();
        }
        assert_string_equal(dag.path, path);
        assert_true(dag.ntasks >= 1);
        task_dag_release(&dag);
    }
    snprintf(path, sizeof(path), "%s/examples/pipeline.yaml",
             src ? src : SKYC_SOURCE_DIR);
    assert_int_equal(task_dag_load_file(&dag, path, &err), SKYC_OK);
    assert_int_equal(dag.ntasks, 3);
    assert_int_equal(dag.nedges, 2);
    assert_true(task_output_gb(&dag.tasks[0]) == 120);
    assert_true(task_output_gb(&dag.tasks[2]) == 0);
    task_dag_release(&dag);

    assert_int_equal(task_dag_load_file(&dag, "/nonexistent/x.yaml", &err),
                     SKYC_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "cannot read task file "
                                    "'/nonexistent/x.yaml'"));
    task_dag_release(&dag);
}

static void test_display_name(void **state)
{
    (void)state;
    const char *y = "name: first\n---\nrun: x\n";
    struct task_dag dag;
    char buf[32];
    assert_int_equal(task_dag_load_string(&dag, y, strlen(y), NULL, NULL),
                     SKYC_OK);
    assert_string_equal(dag.path, "<string>");
    assert_string_equal(task_display_name(&dag, 0, buf, sizeof(buf)), "first");
    assert_string_equal(task_display_name(&dag, 1, buf, sizeof(buf)),
                        "task-1");
    task_dag_release(&dag);
    task_dag_release(&dag); /* harmless twice */
}

/* Text need not be NUL-terminated: only len bytes are read. */
static void test_not_terminated(void **state)
{
    (void)state;
    char text[] = {'r', 'u', 'n', ':', ' ', 'a', 'X', 'Y'};
    struct task_dag dag;
    struct skyc_error err = {0};
    assert_int_equal(task_dag_load_string(&dag, text, 6, "t", &err), SKYC_OK);
    assert_string_equal(dag.tasks[0].run, "a");
    task_dag_release(&dag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_files),       cmocka_unit_test(test_display_name),
        cmocka_unit_test(test_not_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
