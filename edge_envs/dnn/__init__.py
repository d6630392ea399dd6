"""DNN models as layer chains, their measured latency profiles, and block grouping.

```python
from edge_envs.dnn import build_model, shipped_profile, block_table
chain = build_model("vgg16")                 # LayerChain: .layers = [(name, module)], .input_shape
profile = shipped_profile("vgg16", "cpu")    # measured on one CPU core (the IoT device)
table = block_table("vgg16", M=6)            # 6 contiguous blocks balanced by measured latency
```

Every profile says where its numbers come from:

>>> from edge_envs.dnn import shipped_profile
>>> shipped_profile("vgg16", "cpu").source.kind
'measured'
>>> gpu = shipped_profile("alexnet_224", "gpu")
>>> gpu.source.kind, gpu.source.batch, round(float(gpu.per_image_latency(256).sum()) * 1e3, 4)  # ms per image
('imported', 256, 0.175)
"""

from edge_envs.dnn.blocks import BlockTable, block_table, group_blocks
from edge_envs.dnn.models import MODELS, LayerChain, build_model
from edge_envs.dnn.profile import (
    LatencyStats,
    LayerProfile,
    Profile,
    ProfileError,
    ProfileNotShipped,
    Source,
    load_profile,
    save_profile,
    shipped_profile,
)

__all__ = [
    "MODELS",
    "BlockTable",
    "LatencyStats",
    "LayerChain",
    "LayerProfile",
    "Profile",
    "ProfileError",
    "ProfileNotShipped",
    "Source",
    "block_table",
    "build_model",
    "group_blocks",
    "load_profile",
    "save_profile",
    "shipped_profile",
]
