"""Pretrained segmentation backbones: registry, loading, inference."""

from .inference import predict_logits, predict_probabilities
from .loading import Backbone, load_backbone
from .registry import (
           REGISTRY,
           BackboneSpec,
           Preprocessing,
           backbone_names,
           get_backbone,
)

__all__ = ["REGISTRY", "Backbone", "BackboneSpec", "Preprocessing", "backbone_names", "get_backbone",
           "load_backbone", "predict_logits", "predict_probabilities"]
