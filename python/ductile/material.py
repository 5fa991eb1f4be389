"""Materials written in PyTorch: a torch.nn.Module (or any callable of tensors) that maps a batch of deformation
gradients F [B, D, D] to Kirchhoff stresses tau [B, D, D] drives a scene material of model "python". The C++
core calls back into Python once per material batch and step (holding the GIL); the vector-Jacobian product
comes from torch.autograd, so the module's parameters receive gradients through ductile.rollout."""
import numpy as np
import torch


class ModuleBridge:
    """What the C++ "python" material calls: stress, stress_vjp, learnable, set_learnable and size."""

    def __init__(self, module, dtype, name="?"):
        self.module, self.name, self.dtype = module, name, dtype
        self.params = [p for p in module.parameters()] if isinstance(module, torch.nn.Module) else []
        for p in self.params:
            if p.dtype != dtype:
                raise TypeError(f"modules['{name}']: parameters are {p.dtype} but the simulation runs in {dtype}; "
                                f"convert the module (module.to({dtype})) or pass dtype={p.dtype}")
        self.size = sum(p.numel() for p in self.params)
        # the module runs where its parameters are; F and tau cross to and from host memory
        self.device = self.params[0].device if self.params else torch.device("cpu")

    def _call(self, F):
        if self.module is None:
            raise RuntimeError(f"material '{self.name}' (python) has no module: pass modules={{'{self.name}': module}}")
        tau = self.module(F)
        if not isinstance(tau, torch.Tensor) or tuple(tau.shape) != tuple(F.shape):
            shape = tuple(tau.shape) if isinstance(tau, torch.Tensor) else type(tau).__name__
            raise ValueError(f"modules['{self.name}']: expected a stress tensor of shape {tuple(F.shape)}, got {shape}")
        return tau

    def stress(self, F):
        with torch.no_grad():
            return self._call(torch.from_numpy(F).to(self.device)).detach().to(self.dtype).cpu().numpy()

    def stress_vjp(self, F, adj_tau, want_weights):
        F = torch.from_numpy(F).to(self.device).requires_grad_(True)
        with torch.enable_grad():
            tau = self._call(F)
            inputs = [F] + (self.params if want_weights else [])
            grads = torch.autograd.grad(tau, inputs, torch.from_numpy(adj_tau).to(self.device), allow_unused=True)
        adj_F = grads[0] if grads[0] is not None else torch.zeros_like(F)
        adj_w = None
        if want_weights and self.params:
            adj_w = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                               for g, p in zip(grads[1:], self.params)]).detach().cpu().numpy()
        return adj_F.detach().cpu().numpy(), adj_w

    def learnable(self):
        if not self.params:
            return np.zeros(0)
        return torch.cat([p.detach().reshape(-1) for p in self.params]).cpu().numpy()

    def set_learnable(self, values):
        values = torch.as_tensor(np.asarray(values)).to(self.device)
        with torch.no_grad():
            offset = 0
            for p in self.params:
                p.copy_(values[offset:offset + p.numel()].reshape(p.shape))
                offset += p.numel()

    def split(self, flat):
        """A flat gradient over every parameter, as one tensor per parameter."""
        out, offset = [], 0
        for p in self.params:
            out.append(flat[offset:offset + p.numel()].reshape(p.shape).to(device=p.device, dtype=p.dtype))
            offset += p.numel()
        return out
