"""The training engine: the one place that knows TRL's private methods (a thin GRPOTrainer subclass)."""
