/* libFuzzer entry for the task YAML loader: any bytes, never a crash. */
#include "core/common.h"
#include "task/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct task_dag dag;
    struct skyc_error err = {0};
    char buf[32];
    if (size > 64 * 1024)
        return 0;
    if (task_dag_load_string(&dag, (const char *)data, size, "fuzz.yaml",
                             &err) == SKYC_OK) {
        /* every edge goes forward; every task has an alternative */
        for (size_t i = 0; i < dag.nedges; i++)
            if (dag.edges[i].from >= dag.edges[i].to ||
                dag.edges[i].to >= dag.ntasks)
                abort();
        for (size_t i = 0; i < dag.ntasks; i++) {
            if (!dag.tasks[i].nresources || dag.tasks[i].num_nodes < 1)
                abort();
            (void)task_display_name(&dag, i, buf, sizeof(buf));
            (void)task_output_gb(&dag.tasks[i]);
        }
    } else if (strncmp(err.msg, "fuzz.yaml:", 10) != 0) {
        abort(); /* every input error is located */
    }
    task_dag_release(&dag);
    return 0;
}
