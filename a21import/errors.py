"""Domain errors. The core raises these; only cli.py turns them into messages and exit codes.

Exit codes: 0 all imported, 1 some policies failed, 2 bad input, 3 environment.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130


class A21Error(Exception):
    """Base of every error that ends a command with a clean message."""

    exit_code = EXIT_ENVIRONMENT

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(A21Error):
    """The user's input cannot be used (malformed date, number, option)."""

    exit_code = EXIT_BAD_INPUT


class Cancelled(A21Error):
    """The user answered no at a prompt: nothing was imported, as asked."""

    exit_code = EXIT_BAD_INPUT


class NotStored(A21Error):
    """A well-formed policy number that the database does not hold."""

    exit_code = EXIT_FAILED


class EnvironmentProblem(A21Error):
    """The browser, the tab or the app is not in a state the import can use."""

    exit_code = EXIT_ENVIRONMENT


class NoBrowser(EnvironmentProblem):
    pass


class NoTab(EnvironmentProblem):
    pass


class NotLoggedIn(EnvironmentProblem):
    pass


class WrongIdentity(EnvironmentProblem):
    """The tab shows another identity or section than the one needed; the user must switch it."""

    def __init__(self, message: str, *, expected: str | None = None, actual: str | None = None):
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class NoRights(EnvironmentProblem):
    pass


class TabGone(EnvironmentProblem):
    """The browser or the app's tab was closed while the tool was using it."""


class DatabaseProblem(EnvironmentProblem):
    """The database cannot be opened or written (locked, read-only, not SQLite)."""


class DatabaseLocked(DatabaseProblem):
    """Another program held the database's write lock for longer than the wait allows."""


class PolicyError(Exception):
    """One policy cannot be imported; it is marked red and the others go on."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ParseError(PolicyError):
    """What the app sent for one policy does not have the documented shape."""


class PageChanged(ParseError):
    """A page or answer lacks a block, label, key or column the adapter needs: the app changed it, or shows
    something the adapter does not support. `detail` (translated) says what is missing; the reason adds that
    the app's page changed and the request path it answered (see a21import.capture.drift_reason)."""

    def __init__(self, detail: str, *, app: str | None = None, block: str | None = None,
                 missing: str | None = None, path: str | None = None):
        from a21import.capture import drift_reason  # late: capture imports this module

        self.detail, self.app, self.block, self.missing = detail, app, block, missing
        reason, self.path = drift_reason(detail, app=app, path=path)
        super().__init__(reason)


class PolicyNotFound(PolicyError):
    """A well-formed number that the app does not find."""


class OutOfScope(PolicyError):
    """The app finds the policy, but it is outside what the importer imports (e.g. a corporate policy)."""


class Interrupted(A21Error):
    """The user pressed Ctrl-C. `summary` holds the rows as they stood when the import stopped."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str, *, summary: object = None):
        super().__init__(message)
        self.summary = summary


class AnswerRefused(PolicyError):
    """One answer of the app was not read: it redirected to another site, was too large, or came too late."""


class Throttled(PolicyError):
    """The app asked us to slow down (429/503); the importer backs off and tries the policy again."""
