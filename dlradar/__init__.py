"""The application layer: the `dlradar` command, the main job `run`, and the hooks that tie the
parts (tracker, bench) and the readers (dashboard, digest) together."""

from core import __version__

__all__ = ["__version__"]
