"""dlradar: follow the deep-learning literature and measure its models on your own hardware."""

__version__ = "0.1.0"
