"""Runnable PyTorch scripts that reproduce what a page shows, one module per page.

Each snippet uses only torch (and the standard library), runs on its own, and prints the page's key
numbers as `name: key=value ...` lines so the tests can compare them with the page.
"""

#: The course's Dataset for the water-quality CSV (§1.2), as every script that trains on it writes it.
WATER_DATASET = '''class WaterDataset(Dataset):
    def __init__(self, csv_path):
        super().__init__()
        self.data = pd.read_csv(csv_path).to_numpy(dtype="float32")

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, idx):
        return self.data[idx, :-1], self.data[idx, -1]
'''
