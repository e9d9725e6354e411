"""Reading images and masks, writing labels and probabilities atomically."""
