"""The work handed to worker threads, and the workers that run it."""
