"""Background work: the TaskRunner (the one way to run work off the GUI thread) and the jobs it runs."""
