"""Training the SPN refiner: data (real or synthesized coarse masks) and the training loop."""
