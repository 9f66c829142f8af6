"""Training, evaluation and process launching around upstream's model, optimizer and evaluator."""
