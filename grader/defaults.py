"""The grading options' defaults, defined once: `grade check`, `grade batch`, nbgrader and the API use these."""

TIMEOUT = 10.0  # seconds each task may run
MEMORY_MB = 1024  # memory cap of the learner's process
SEED = 0  # seed of the grader's inputs
