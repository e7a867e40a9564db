"""Named exceptions that the library raises and the CLI turns into one-line messages."""


class DlradarError(Exception):
    """Base class: a failure the user can act on; its message is the one-line reason."""


class ConfigError(DlradarError):
    """The configuration file or an environment variable is invalid."""


class SourceError(DlradarError):
    """A source (service or file) could not be read; names the source and what failed."""


class FormatError(SourceError):
    """A file's content is not in a format dlradar can read."""


class FetchError(SourceError):
    """A live fetch failed after its retries (HTTP error, timeout, refused connection)."""


class NotFoundError(DlradarError):
    """A paper, run or other record asked for by id does not exist."""
