"""The introductory article's PyTorch training script, as published (for W5).

The model and the loop are the article's, statement for statement; only the class and
the training code, which the article shows in two listings, are put in one file.
"""

import torch
import torch.nn as nn
import torch.optim as optim


class FeedforwardNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.output = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        x = self.hidden(x)
        x = self.relu(x)
        x = self.output(x)
        return x


## Create synthetic data
input_data = torch.randn(100, 3)
target_data = torch.randn(100, 1)

## Initialize the model, loss function, and optimizer
model = FeedforwardNN(input_size=3, hidden_size=10, output_size=1)
loss_function = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.01)

## Train the model
for epoch in range(100):  ## Number of training epochs
    ## Forward pass
    output = model(input_data)

    ## Compute the loss
    loss = loss_function(output, target_data)

    # Backward pass
    optimizer.zero_grad()  ## Clear previous gradients
    loss.backward()  ## Compute gradients

    ## Update weights
    optimizer.step()

    ## Print loss for the current epoch
    print(f"Epoch {epoch + 1}, Loss: {loss.item()}")
