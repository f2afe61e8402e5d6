"""The state machines of OpsDesk and the one entry point that fires their transitions."""
