"""The one error type of the monitoring math."""


class MonitoringError(ValueError):
    """Input the monitoring math cannot use; the message is one line naming the problem."""
