"""The course's models, and PyTorch's parameter initialisation redone with an explicit generator.

`nn.Linear`, `nn.Conv2d` and the recurrent layers draw their initial weights from the global RNG,
which sessions running in parallel threads share. `init_parameters` redraws every parameter from a
`torch.Generator`, with PyTorch's own default rules (or the Xavier/Kaiming ones), so a seed alone
decides the initial model.
"""
from __future__ import annotations

import math

import torch
from torch import nn

INITS = ("default", "kaiming", "xavier")


class WaterNet(nn.Module):
    """The course's `Net` (§1.4): 9 → hidden1 → hidden2 → 1 with ReLU, a sigmoid on the output.

    Args:
        batchnorm: insert `nn.BatchNorm1d` after each hidden Linear (§3.4).
        logits: leave out the final sigmoid (for `BCEWithLogitsLoss`).
    """

    def __init__(self, n_features: int = 9, hidden1: int = 16, hidden2: int = 8, batchnorm: bool = False, logits: bool = False):
        super().__init__()
        self.fc1 = nn.Linear(n_features, hidden1)
        self.bn1 = nn.BatchNorm1d(hidden1) if batchnorm else nn.Identity()
        self.fc2 = nn.Linear(hidden1, hidden2)
        self.bn2 = nn.BatchNorm1d(hidden2) if batchnorm else nn.Identity()
        self.fc3 = nn.Linear(hidden2, 1)
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 9) → (N, 1)
        x = nn.functional.relu(self.bn1(self.fc1(x)))
        x = nn.functional.relu(self.bn2(self.fc2(x)))
        x = self.fc3(x)
        return x if self.logits else torch.sigmoid(x)


class CloudNet(nn.Module):
    """The course's CNN (§5.9): two Conv–ELU–MaxPool blocks, then one Linear, for 3×64×64 pictures."""

    def __init__(self, num_classes: int = 7, channels: int = 32, batchnorm: bool = False):
        super().__init__()
        c1, c2 = channels, 2 * channels
        self.feature_extractor = nn.Sequential(
            nn.Conv2d(3, c1, kernel_size=3, padding=1),  # (N, c1, 64, 64)
            nn.BatchNorm2d(c1) if batchnorm else nn.Identity(),
            nn.ELU(),
            nn.MaxPool2d(kernel_size=2),  # (N, c1, 32, 32)
            nn.Conv2d(c1, c2, kernel_size=3, padding=1),  # (N, c2, 32, 32)
            nn.BatchNorm2d(c2) if batchnorm else nn.Identity(),
            nn.ELU(),
            nn.MaxPool2d(kernel_size=2),  # (N, c2, 16, 16)
            nn.Flatten(),  # (N, c2·16·16)
        )
        self.classifier = nn.Linear(c2 * 16 * 16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, 64, 64) → (N, K) logits
        return self.classifier(self.feature_extractor(x))


class RecurrentNet(nn.Module):
    """An RNN, LSTM or GRU over (N, L, 1) windows, the last step's hidden state into a Linear (§11.3)."""

    CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

    def __init__(self, cell: str = "lstm", hidden_size: int = 32, num_layers: int = 2, input_size: int = 1):
        super().__init__()
        if cell not in self.CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose from {', '.join(self.CELLS)}")
        self.rnn = self.CELLS[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, L, 1) → (N, 1)
        out, _ = self.rnn(x)  # (N, L, H)
        return self.fc(out[:, -1, :])


def init_parameters(model: nn.Module, scheme: str, g: torch.Generator) -> nn.Module:
    """Redraw every parameter of `model` from `g`.

    default: PyTorch's own rules — Linear and Conv weights kaiming_uniform_(a=√5), biases
    U(−1/√fan_in, 1/√fan_in); recurrent weights and biases U(−1/√H, 1/√H); BatchNorm γ = 1, β = 0.
    kaiming: kaiming_uniform_(nonlinearity="relu") on Linear/Conv weights, zero biases (§3.3).
    xavier: xavier_uniform_ on Linear/Conv weights, zero biases (§3.3).
    """
    if scheme not in INITS:
        raise ValueError(f"unknown initialisation {scheme!r}; choose from {', '.join(INITS)}")
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                fan_in = nn.init._calculate_fan_in_and_fan_out(module.weight)[0]
                if scheme == "default":
                    nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=g)
                    if module.bias is not None:
                        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                        nn.init.uniform_(module.bias, -bound, bound, generator=g)
                else:
                    if scheme == "kaiming":
                        nn.init.kaiming_uniform_(module.weight, nonlinearity="relu", generator=g)
                    else:
                        nn.init.xavier_uniform_(module.weight, generator=g)
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)
            elif isinstance(module, (nn.RNN, nn.LSTM, nn.GRU)):
                bound = 1 / math.sqrt(module.hidden_size)
                for p in module.parameters():
                    nn.init.uniform_(p, -bound, bound, generator=g)
            elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
    return model
