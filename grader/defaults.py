"""The grading options' defaults, defined once: `grade check`, `grade batch`, GradeTasks and feedback() use these."""

TIMEOUT = 10.0  # seconds each task may run (--timeout); a Task may set its own (Task.timeout)
MEMORY_MB = 1024  # memory cap of the submission's process, MiB (--memory)
SEED = 0  # seed of the grader's inputs (--seed); students can see the inputs of this one
