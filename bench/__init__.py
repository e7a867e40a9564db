"""The benchmark harness: model zoo -> export -> time / evaluate -> store."""
