"""Errors the user can fix; the CLI prints their message as one line and exits non-zero."""


class UserError(Exception):
    """A problem with the user's input or environment; the message names the fix."""

    exit_code = 1


class DataNotFoundError(UserError):
    """The Kaggle files are not where the project looks for them."""

    exit_code = 2


class TrackingServerUnavailable(UserError):
    """No MLflow tracking server answers at the configured URI."""


class UnknownModelError(UserError):
    """A model configuration name that the registry does not know."""
