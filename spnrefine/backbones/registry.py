"""Registry of segmentation backbones; every entry carries what it needs to run correctly.

Like torchvision's weight enums: preprocessing, class names, palette, ignore index and
where the weights come from are recorded, never guessed at load time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..errors import SpnrefineError
from ..labels import CAMVID, VOC, LabelSet


@dataclass(frozen=True)
class Preprocessing:
    """8-bit image → network input: ``((pixels[channel_order] * pixel_scale - mean) / std) * output_scale``.

    Then, if ``resize_short_side``, the short side is resized to it (bilinear); then the
    image is padded (bottom/right, zeros after normalization) to a multiple of
    ``size_multiple``. Logits are cropped/resized back to the input's size.
    """

    channel_order: str = "RGB"  # "RGB" or "BGR"
    pixel_scale: float = 1 / 255
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    output_scale: float = 1.0
    size_multiple: int = 1
    resize_short_side: int | None = None


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    description: str
    build: Callable[[], nn.Module]
    labels: LabelSet
    num_outputs: int  # channels of the network's logits (may include a void channel)
    preprocessing: Preprocessing
    weights: str  # where the weights come from
    hub_filename: str | None = None  # torch hub cache file name, if it has one
    output_key: str | None = None  # the logits' key when the model returns a dict


def _espnet():
    from .espnet import EspNet

    return EspNet(classes=12, p=2, q=8)


# Mean/std: per-image channel means and standard deviations averaged over the 367 CamVid
# train images read as BGR in [0, 255] (how ESPNet's authors computed them); recomputed
# from ../shared/data/camvid by tests/test_backbones.py.
ESPNET_CAMVID_MEAN = (110.33134257760945, 108.40914603085218, 105.03352311261668)
ESPNET_CAMVID_STD = (72.12519707536828, 72.68854341844772, 69.90261427128347)

ESPNET_CAMVID = BackboneSpec(
    name="espnet-camvid",
    description="ESPNet (p=2, q=8) trained on CamVid 480x360 by its authors; 11 classes + void",
    build=_espnet,
    labels=CAMVID,
    num_outputs=12,
    preprocessing=Preprocessing(
        channel_order="BGR", pixel_scale=1.0, mean=ESPNET_CAMVID_MEAN, std=ESPNET_CAMVID_STD,
        output_scale=1 / 255, size_multiple=8,
    ),
    weights="the authors' release espnet_p_2_q_8_camvid.pth (github.com/sacmehta/ESPNet, MIT), "
    "passed with --backbone-weights",
)


def _torchvision(builder: str, filename: str, aux: bool) -> BackboneSpec:
    def build():
        from torchvision.models import segmentation

        kwargs = {"weights": None, "weights_backbone": None, "num_classes": len(VOC.class_names)}
        if aux:
            kwargs["aux_loss"] = True
        return getattr(segmentation, builder)(**kwargs)

    return BackboneSpec(
        name=builder,
        description=f"torchvision {builder}, COCO images with the 20 VOC categories + background",
        build=build,
        labels=VOC,
        num_outputs=21,
        preprocessing=Preprocessing(resize_short_side=520),
        weights=f"torchvision's official COCO_WITH_VOC_LABELS_V1 weights ({filename})",
        hub_filename=filename,
        output_key="out",
    )


TORCHVISION = [
    _torchvision("deeplabv3_resnet50", "deeplabv3_resnet50_coco-cd0a2569.pth", aux=True),
    _torchvision("deeplabv3_resnet101", "deeplabv3_resnet101_coco-586e9e4e.pth", aux=True),
    _torchvision("deeplabv3_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large-fc3c493d.pth", aux=True),
    _torchvision("lraspp_mobilenet_v3_large", "lraspp_mobilenet_v3_large-d234d4ea.pth", aux=False),
    _torchvision("fcn_resnet50", "fcn_resnet50_coco-1167a1af.pth", aux=True),
]

USER_MODEL = "user"
"""A TorchScript file or torch.export archive given by --backbone-weights, described by a JSON sidecar."""

REGISTRY: dict[str, BackboneSpec] = {spec.name: spec for spec in (ESPNET_CAMVID, *TORCHVISION)}


def backbone_names() -> list[str]:
    return [*REGISTRY, USER_MODEL]


def get_backbone(name: str) -> BackboneSpec:
    """The registered backbone ``name``; the error lists the valid names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise SpnrefineError(f"unknown backbone {name!r}; valid names: {', '.join(backbone_names())}") from None
