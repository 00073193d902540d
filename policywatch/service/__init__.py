"""Running policywatch as a service: the scheduler's jobs, the leader lease that keeps one scheduler
active per database, and the runner of the CLI subprocesses the jobs start."""
