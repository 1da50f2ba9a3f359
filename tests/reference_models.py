"""Hand-written PyTorch versions of the shipped example graphs: what the compiled graphs must equal (tests)
and what the engine's throughput is compared against (bench/train_throughput.py)."""

import torch
from torch import nn
from torch.nn import functional as F


def seed_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5408, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def digits_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 64),
                         nn.ReLU(), nn.Linear(64, 10))


class SeedLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(100, 256, num_layers=2, batch_first=True)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                                   nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16))
        self.head = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stem(x)
        x = self.head(self.block(x) + x)
        return self.fc(x.mean(dim=(2, 3)))


class TextClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10000, 64)
        self.lstm = nn.LSTM(64, 128, batch_first=True)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(128, 2)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.fc(self.drop(out[:, -1]))


class ClassAndPosition(nn.Module):
    """ViT's learned class token, put before the patch tokens, and its positional embedding, added to all."""

    def __init__(self, tokens, width):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, width))
        self.pos_embed = nn.Parameter(torch.randn(tokens + 1, width) * 0.02)

    def forward(self, x):
        return torch.cat([self.cls_token.expand(len(x), 1, -1), x], dim=1) + self.pos_embed


class ViTTiny(nn.Module):
    """vit_tiny: 2×2 patches of an 8×8 digit, width 32, two pre-norm encoder layers, the class token classified."""

    def __init__(self, width=32, patch=2):
        super().__init__()
        self.patchify = nn.Conv2d(1, width, patch, stride=patch)
        self.embed = ClassAndPosition((8 // patch) ** 2, width)
        self.encoder = nn.Sequential(*(nn.TransformerEncoderLayer(width, 4, 64, 0.1, "gelu", batch_first=True,
                                                                  norm_first=True) for _ in range(2)))
        self.norm = nn.LayerNorm(width)
        self.fc = nn.Linear(width, 10)

    def forward(self, x):
        tokens = self.patchify(x).flatten(2).transpose(1, 2)  # (batch, 16, width)
        return self.fc(self.norm(self.encoder(self.embed(tokens))[:, 0]))


class UNetDigits(nn.Module):
    """unet_digits: down 8 -> 4 -> 2, up again with a transposed convolution and an upsampling, skips joined."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.mid = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU())
        self.up2 = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.dec2 = nn.Sequential(nn.Conv2d(64, 32, 3, padding=1), nn.ReLU())
        self.up1 = nn.Upsample(scale_factor=2)
        self.dec1 = nn.Sequential(nn.Conv2d(48, 16, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        skip1 = self.enc1(x)
        skip2 = self.enc2(skip1)
        x = self.dec2(torch.cat([self.up2(self.mid(skip2)), skip2], dim=1))
        x = self.dec1(torch.cat([self.up1(x), skip1], dim=1))
        return self.fc(x.mean(dim=(2, 3)))


class SqueezeExcitation(nn.Module):
    def __init__(self, channels, squeezed):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, squeezed, 1)
        self.expand = nn.Conv2d(squeezed, channels, 1)

    def forward(self, x):
        return x * F.hardsigmoid(self.expand(F.relu(self.reduce(self.pool(x)))))  # (C, 1, 1) broadcast


def conv_bn(cin, cout, kernel=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, kernel, padding=kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([nn.Hardswish()] if act else []))


class MobileNetSE(nn.Module):
    """mobilenet_se: a stem, one inverted residual block (expand, depthwise, squeeze-excitation, project)."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(1, 16, 3)
        self.expand = conv_bn(16, 64)
        self.depthwise = conv_bn(64, 64, 3, groups=64)
        self.se = SqueezeExcitation(64, 16)
        self.project = conv_bn(64, 16, act=False)
        self.head = nn.Sequential(nn.Conv2d(16, 96, 1), nn.Hardswish())
        self.fc = nn.Linear(96, 10)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.project(self.se(self.depthwise(self.expand(x))))
        return self.fc(self.head(x).mean(dim=(2, 3)))


class TextTransformer(nn.Module):
    """text_transformer: embedding, one encoder layer, the mean over time, a dense layer."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10000, 64)
        self.encoder = nn.TransformerEncoderLayer(64, 4, 128, 0.1, batch_first=True)
        self.fc = nn.Linear(64, 2)

    def forward(self, tokens):
        return self.fc(self.encoder(self.embed(tokens)).mean(dim=1))
