r"""Hidden neurons: spiking populations, their mesoscopic equation and the neuLVM fit.

A network of :math:`M` homogeneous populations of escape-noise neurons, simulated neuron by
neuron (*microscopic*) or as population counts (*mesoscopic*), and a latent-variable model
(neuLVM, Wang, Schmutz, Bellec & Gerstner, NeurIPS 2022) that infers the activity of the
unobserved neurons from a few observed spike trains and fits the couplings by
maximum-a-posteriori expectation maximisation.  Written from the published equations (and
those of Schwalger, Deger & Gerstner, PLoS Comput. Biol. 2017); the neuron model is simpler
than the paper's leaky integrate-and-fire neuron (see below).

Neuron model (discrete time, step :math:`\Delta t` in ms)
---------------------------------------------------------
Neuron :math:`i` of population :math:`\alpha` is *refractory* for :math:`R` steps after each
spike and otherwise *free*.  A free neuron spikes in step :math:`t` with probability

.. math:: p_{\alpha,t} = 1 - \exp\!\big(-\Delta t\, e^{h_{\alpha,t}}\big),
          \qquad h_{\alpha,t} = \mu_\alpha + \sum_\beta J_{\alpha\beta} s_{\beta,t}
          + I_{\alpha,t},

an exponential hazard :math:`\rho = e^{h}` (in kHz) of the input potential :math:`h`.  The
synaptic variable is the population rate :math:`x_{\beta,t} = n_{\beta,t}/(N_\beta\Delta t)`
(kHz; :math:`n_{\beta,t}` spikes of the :math:`N_\beta` neurons in step :math:`t`) filtered
with time constant :math:`\tau_s` after a delay of :math:`d` steps,

.. math:: s_{\beta,t+1} = a\, s_{\beta,t} + (1 - a)\, x_{\beta,t-d},
          \qquad a = e^{-\Delta t/\tau_s},

with :math:`s_{\beta,0} = 0` and :math:`x_{\beta,t} = 0` for :math:`t < 0`; every neuron is
free at :math:`t = 0`.  Because the hazard of a free neuron does not depend on the time since
its last spike, the refractory-density (age-structured) population equation is exact for this
model: the :math:`F_{\alpha,t} = N_\alpha - \sum_{k=1}^{R} n_{\alpha,t-k}` free neurons spike
independently, so

.. math:: n_{\alpha,t} \sim \mathrm{Bin}(F_{\alpha,t}, p_{\alpha,t}).

Latent-variable model
---------------------
:math:`k_\alpha` neurons of population :math:`\alpha` are observed; their spikes
:math:`y_{\alpha,t}` (a count) are data, the spikes :math:`z_{\alpha,t}` of the
:math:`N_\alpha - k_\alpha` hidden neurons are latent, and :math:`n = y + z`.  The joint
log-likelihood is

.. math:: \mathcal L(z, \Theta) = \sum_{t,\alpha}\Big[K_{\alpha,t}\log p_{\alpha,t}
          + (G_{\alpha,t} - K_{\alpha,t})\log(1 - p_{\alpha,t})
          + \log\mathcal N\big(z_{\alpha,t};\, \bar z_{\alpha,t},\, \bar z_{\alpha,t}
          (1 - p_{\alpha,t}) + \epsilon\big)\Big],

where :math:`G_{\alpha,t}` observed neurons are free and :math:`K_{\alpha,t}` of them spike,
:math:`\bar z_{\alpha,t} = F^h_{\alpha,t} p_{\alpha,t}` with the free hidden neurons
:math:`F^h_{\alpha,t} = \max(0, N_\alpha - k_\alpha - \sum_{k=1}^R z_{\alpha,t-k})`, and the
Gaussian (mean and variance of the binomial, plus :math:`\epsilon`) relaxes the integer counts
to real numbers.  The E-step maximises :math:`\mathcal L` over :math:`z` (L-BFGS-B with the
analytic gradient, :math:`0 \le z \le N - k`), the M-step over :math:`\Theta = (\mu, J)`.

:func:`fit_neulvm_particle` fits the same model by Monte-Carlo EM instead: a particle smoother
samples :math:`z` from its exact binomial law given the observed spikes, and the M-step
maximises the exact complete-data (binomial) log-likelihood averaged over the samples.  MAP-EM
is biased twice here (the Gaussian relaxation, whose :math:`\epsilon` inflates the variance of
the small hidden counts of 1-ms steps, and the single smooth latent trajectory); the particle
version is not, and its fits reproduce the circuit's switching (see
``benchmarks/switching_populations.py``).

Public functions validate their inputs and raise ``ValueError`` / ``TypeError``; the loops run
in private numba kernels.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from scipy.optimize import minimize

from memlab._threads import single_threaded_blas
from memlab._validation import (
    check_bool,
    check_finite_float,
    check_generator,
    check_nonneg_float,
    check_nonneg_int,
    check_positive_float,
    check_positive_int,
    check_real_array,
)

__all__ = [
    "Circuit",
    "MicroRun",
    "MesoRun",
    "Observation",
    "LogLikelihood",
    "FitResult",
    "ParticleFit",
    "Dwell",
    "make_circuit",
    "winner_take_all",
    "firing_probability",
    "input_potential",
    "simulate_micro",
    "simulate_meso",
    "observe",
    "empirical_latent",
    "joint_log_likelihood",
    "map_latent",
    "fit_parameters",
    "fit_neulvm",
    "fit_neulvm_particle",
    "dwell_times",
]

_H_MIN, _H_MAX = -40.0, 8.0
# Sanity limits (beyond them a run would not fit in memory or would not end).
_MAX_NEURONS = 10**7  # per population
_MAX_LAG = 10**4  # refractory period and delay, in steps
_MAX_ITER = 1000  # EM iterations
_MAX_PARTICLES = 10**5
_MAX_PARTICLE_VALUES = 2 * 10**7  # T * particles * M (the smoother keeps 3 float32 each, twice)


class Circuit(NamedTuple):
    """Parameters of an :math:`M`-population circuit (see the module docstring).

    Attributes
    ----------
    sizes : numpy.ndarray of int64, shape (M,)
        Neurons per population :math:`N_\\alpha`.
    coupling : numpy.ndarray, shape (M, M)
        :math:`J_{\\alpha\\beta}` (input to :math:`\\alpha` from :math:`\\beta`, per kHz).
    bias : numpy.ndarray, shape (M,)
        :math:`\\mu_\\alpha`; :math:`e^{\\mu}` is the rate (kHz) of a free neuron without input.
    refractory : int
        Absolute refractory period :math:`R` in steps.
    tau_syn : float
        Synaptic time constant :math:`\\tau_s` in ms.
    delay : int
        Synaptic delay :math:`d` in steps.
    dt : float
        Time step :math:`\\Delta t` in ms.
    """

    sizes: np.ndarray
    coupling: np.ndarray
    bias: np.ndarray
    refractory: int
    tau_syn: float
    delay: int
    dt: float


class MicroRun(NamedTuple):
    """Result of :func:`simulate_micro`.

    Attributes
    ----------
    counts : numpy.ndarray of int64, shape (T, M)
        Spikes per population and step :math:`n_{\\alpha,t}`.
    spikes : numpy.ndarray of bool, shape (T, M, n_record)
        Spike trains of the first ``n_record`` neurons of each population.
    """

    counts: np.ndarray
    spikes: np.ndarray


class MesoRun(NamedTuple):
    """Result of :func:`simulate_meso`.

    Attributes
    ----------
    counts : numpy.ndarray of int64, shape (T, M)
        Sampled spike counts :math:`n_{\\alpha,t}`.
    expected : numpy.ndarray, shape (T, M)
        Expected counts :math:`F_{\\alpha,t}p_{\\alpha,t}` given the past.
    """

    counts: np.ndarray
    expected: np.ndarray


class Observation(NamedTuple):
    """Observed neurons, reduced to what the likelihood needs (from :func:`observe`).

    Attributes
    ----------
    spike_counts : numpy.ndarray, shape (T, M)
        :math:`y_{\\alpha,t}`: spikes of the observed neurons of each population.
    free_counts : numpy.ndarray, shape (T, M)
        :math:`G_{\\alpha,t}`: observed neurons that are free (not refractory) in step t.
    n_observed : numpy.ndarray of int64, shape (M,)
        :math:`k_\\alpha`, observed neurons per population.
    """

    spike_counts: np.ndarray
    free_counts: np.ndarray
    n_observed: np.ndarray


class LogLikelihood(NamedTuple):
    """Joint log-likelihood and its gradients (from :func:`joint_log_likelihood`).

    Attributes
    ----------
    value : float
        :math:`\\mathcal L(z, \\Theta)`.
    observed : float
        Its observed-neuron (Bernoulli) part.
    grad_latent : numpy.ndarray, shape (T, M)
        :math:`\\partial\\mathcal L/\\partial z_{\\alpha,t}`.
    grad_bias : numpy.ndarray, shape (M,)
        :math:`\\partial\\mathcal L/\\partial\\mu_\\alpha`.
    grad_coupling : numpy.ndarray, shape (M, M)
        :math:`\\partial\\mathcal L/\\partial J_{\\alpha\\beta}`.
    """

    value: float
    observed: float
    grad_latent: np.ndarray
    grad_bias: np.ndarray
    grad_coupling: np.ndarray


class FitResult(NamedTuple):
    """Result of :func:`fit_neulvm`.

    Attributes
    ----------
    circuit : Circuit
        Fitted circuit (fitted ``bias`` and ``coupling``, the rest as given).
    latent : numpy.ndarray, shape (T, M)
        MAP hidden activity :math:`\\hat z` after the last E-step.
    activity : numpy.ndarray, shape (T, M)
        Inferred population activity :math:`(y + \\hat z)/N` (spikes per neuron per step).
    log_likelihood : numpy.ndarray
        :math:`\\mathcal L` after the initial M-step and after every E- and M-step.
    """

    circuit: Circuit
    latent: np.ndarray
    activity: np.ndarray
    log_likelihood: np.ndarray


class Dwell(NamedTuple):
    """Winner sequence and dwell times (from :func:`dwell_times`).

    Attributes
    ----------
    winner : numpy.ndarray of int64, shape (T,)
        Population with the largest smoothed activity (after merging short flickers).
    durations : numpy.ndarray
        Completed dwell times in ms (the first and last, censored, episodes are dropped).
    """

    winner: np.ndarray
    durations: np.ndarray


# --- construction and validation -------------------------------------------------------------


def make_circuit(sizes, coupling, bias, *, refractory=8, tau_syn=5.0, delay=1, dt=1.0) -> Circuit:
    """Validate the parameters of a circuit and return them as a :class:`Circuit`.

    Parameters
    ----------
    sizes : array_like of int, shape (M,)
        Neurons per population, each >= 1.
    coupling : array_like, shape (M, M)
        Couplings :math:`J_{\\alpha\\beta}`, finite.
    bias : array_like, shape (M,)
        Biases :math:`\\mu_\\alpha`, finite.
    refractory : int
        Absolute refractory period :math:`R` in steps (>= 0).
    tau_syn : float
        Synaptic time constant in ms (> 0).
    delay : int
        Synaptic delay in steps (>= 0).
    dt : float
        Time step in ms (> 0).

    Returns
    -------
    Circuit
        The validated parameters (float64 / int64 arrays).
    """
    raw = np.asarray(sizes)
    if raw.dtype == np.bool_ or not np.issubdtype(raw.dtype, np.integer):
        raise TypeError(f"sizes must be an integer array (neurons per population); got {raw!r}")
    if raw.ndim != 1 or raw.size == 0:
        raise ValueError(f"sizes must be a non-empty 1-d array; got shape {raw.shape}")
    if np.any(raw < 1) or np.any(raw > _MAX_NEURONS):
        raise ValueError(
            f"sizes must lie in [1, {_MAX_NEURONS}] (neurons per population); got {raw.tolist()}"
        )
    n_pop = raw.size
    coupling = check_real_array(coupling, "coupling", shape=(n_pop, n_pop))
    bias = check_real_array(bias, "bias", shape=(n_pop,))
    return Circuit(
        sizes=raw.astype(np.int64),
        coupling=coupling,
        bias=bias,
        refractory=_check_lag(refractory, "refractory"),
        tau_syn=check_positive_float(tau_syn, "tau_syn"),
        delay=_check_lag(delay, "delay"),
        dt=check_positive_float(dt, "dt"),
    )


def _check_lag(value, name):
    value = check_nonneg_int(value, name)
    if value > _MAX_LAG:
        raise ValueError(f"{name} must be at most {_MAX_LAG} steps; got {value}")
    return value


def winner_take_all(
    n_per_pop=100, *, n_pop=3, self_coupling=25.0, cross_coupling=-20.0, bias=-3.0, **kwargs
) -> Circuit:
    """The metastable winner-take-all circuit of the chapter.

    Parameters
    ----------
    n_per_pop : int
        Neurons per population.
    n_pop : int
        Number of populations :math:`M`.
    self_coupling : float
        :math:`J_{\\alpha\\alpha}` (self-excitation).
    cross_coupling : float
        :math:`J_{\\alpha\\beta}`, :math:`\\alpha \\ne \\beta` (mutual inhibition).
    bias : float
        :math:`\\mu_\\alpha` of every population.
    **kwargs
        ``refractory``, ``tau_syn``, ``delay``, ``dt``, passed to :func:`make_circuit`.

    Returns
    -------
    Circuit
        Symmetric circuit with identical populations.
    """
    n_per_pop = check_positive_int(n_per_pop, "n_per_pop")
    if n_per_pop > _MAX_NEURONS:
        raise ValueError(f"n_per_pop must be at most {_MAX_NEURONS}; got {n_per_pop}")
    n_pop = check_positive_int(n_pop, "n_pop")
    if n_pop > 1000:
        raise ValueError(f"n_pop must be at most 1000; got {n_pop}")
    coupling = np.full((n_pop, n_pop), check_finite_float(cross_coupling, "cross_coupling"))
    np.fill_diagonal(coupling, check_finite_float(self_coupling, "self_coupling"))
    bias = check_finite_float(bias, "bias")
    return make_circuit(
        np.full(n_pop, n_per_pop, dtype=np.int64), coupling, np.full(n_pop, bias), **kwargs
    )


def _check_circuit(circuit) -> Circuit:
    if not isinstance(circuit, Circuit):
        raise TypeError(
            f"circuit must be a memlab.populations.Circuit (from make_circuit or "
            f"winner_take_all); got {type(circuit).__name__}"
        )
    return make_circuit(
        circuit.sizes,
        circuit.coupling,
        circuit.bias,
        refractory=circuit.refractory,
        tau_syn=circuit.tau_syn,
        delay=circuit.delay,
        dt=circuit.dt,
    )


def _check_inputs(inputs, n_steps: int, n_pop: int) -> np.ndarray:
    if inputs is None:
        return np.zeros((n_steps, n_pop))
    return check_real_array(inputs, "inputs", shape=(n_steps, n_pop))


def firing_probability(h, dt=1.0):
    """Probability that a free neuron spikes in one step, :math:`p = 1 - e^{-\\Delta t e^{h}}`.

    Parameters
    ----------
    h : float or array_like
        Input potential(s) :math:`h` (finite).
    dt : float
        Time step in ms.

    Returns
    -------
    numpy.ndarray
        :math:`p` in [0, 1], same shape as ``h``.
    """
    h = check_real_array(h, "h", allow_empty=True)
    dt = check_positive_float(dt, "dt")
    return -np.expm1(-dt * np.exp(np.clip(h, _H_MIN, _H_MAX)))


def input_potential(counts, circuit, *, inputs=None) -> np.ndarray:
    """Input potential :math:`h_{\\alpha,t}` of eq. (hazard) given the population spike counts.

    .. math:: h_{\\alpha,t} = \\mu_\\alpha + \\sum_\\beta J_{\\alpha\\beta} s_{\\beta,t}
              + I_{\\alpha,t}, \\qquad
              s_{\\beta,t+1} = a s_{\\beta,t} + (1 - a) \\frac{n_{\\beta,t-d}}{N_\\beta \\Delta t}.

    Parameters
    ----------
    counts : array_like, shape (T, M)
        Spike counts :math:`n_{\\alpha,t}` (real, >= 0).
    circuit : Circuit
        Parameters (biases, couplings, sizes, filter, delay, step).
    inputs : array_like, shape (T, M), optional
        External input :math:`I_{\\alpha,t}` (default zero).

    Returns
    -------
    numpy.ndarray, shape (T, M)
        :math:`h_{\\alpha,t}`; the firing probability of a free neuron is
        ``firing_probability(h, circuit.dt)``.
    """
    circuit = _check_circuit(circuit)
    counts = check_real_array(counts, "counts", ndim=2, low=0.0)
    n_steps, n_pop = counts.shape
    if n_pop != circuit.sizes.size:
        raise ValueError(f"counts has {n_pop} populations but the circuit has {circuit.sizes.size}")
    inputs = _check_inputs(inputs, n_steps, n_pop)
    a = math.exp(-circuit.dt / circuit.tau_syn)
    x = counts / (circuit.sizes * circuit.dt)
    shifted = np.zeros_like(x)
    lag = circuit.delay + 1
    if lag < n_steps:
        shifted[lag:] = x[: n_steps - lag]
    s = _exp_filter(shifted, a)
    return circuit.bias + s @ circuit.coupling.T + inputs


# --- simulations -----------------------------------------------------------------------------


def simulate_micro(circuit, n_steps, *, rng, inputs=None, n_record=0) -> MicroRun:
    """Simulate the circuit neuron by neuron.

    Every free neuron (last spike more than ``refractory`` steps ago) of population
    :math:`\\alpha` spikes in step :math:`t` with probability :math:`p_{\\alpha,t}` (module
    docstring), independently of the others; the synaptic variables are then updated.

    Parameters
    ----------
    circuit : Circuit
        The network (from :func:`make_circuit` or :func:`winner_take_all`).
    n_steps : int
        Number of time steps :math:`T`.
    rng : numpy.random.Generator
        Source of randomness (one uniform number per neuron and step).
    inputs : array_like, shape (T, M), optional
        External input :math:`I_{\\alpha,t}` added to :math:`h` (default zero).
    n_record : int
        Record the spike trains of the first ``n_record`` neurons of each population.

    Returns
    -------
    MicroRun
        Population counts and the recorded spike trains.
    """
    circuit = _check_circuit(circuit)
    n_steps = check_positive_int(n_steps, "n_steps")
    rng = check_generator(rng)
    n_pop = circuit.sizes.size
    inputs = _check_inputs(inputs, n_steps, n_pop)
    n_record = check_nonneg_int(n_record, "n_record")
    if n_record > circuit.sizes.min():
        raise ValueError(
            f"n_record={n_record} exceeds the smallest population ({circuit.sizes.min()} neurons)"
        )
    chunk = max(1, 2**22 // (n_pop * int(circuit.sizes.max())))
    counts, spikes = [], []
    # Simulate in chunks of uniforms drawn from rng (memory stays small for long runs).
    state = None
    for start in range(0, n_steps, chunk):
        stop = min(n_steps, start + chunk)
        u = rng.random((stop - start, n_pop, int(circuit.sizes.max())))
        c, sp, state = _micro_chunk(circuit, inputs[start:stop], n_record, u, state)
        counts.append(c)
        spikes.append(sp)
    return MicroRun(np.concatenate(counts), np.concatenate(spikes))


@njit(cache=True)
def _micro_chunk_kernel(
    sizes, coupling, bias, ref, a, delay, dt, inputs, n_record, u, age, s, hist
):  # pragma: no cover
    """One chunk of the microscopic simulation; ``age``, ``s``, ``hist`` are updated in place.

    ``hist[k, be]`` holds the count of population ``be`` ``k + 1`` steps before the chunk
    (``delay + 1`` rows), so the delayed rates are available across chunk borders.
    """
    n_steps, n_pop = inputs.shape
    counts = np.zeros((n_steps, n_pop), dtype=np.int64)
    spikes = np.zeros((n_steps, n_pop, n_record), dtype=np.bool_)
    p = np.zeros(n_pop)
    for t in range(n_steps):
        for al in range(n_pop):
            h = bias[al] + inputs[t, al]
            for be in range(n_pop):
                h += coupling[al, be] * s[be]
            h = min(max(h, -40.0), 8.0)
            p[al] = -math.expm1(-dt * math.exp(h))
        for al in range(n_pop):
            c = 0
            for i in range(sizes[al]):
                if age[al, i] > ref and u[t, al, i] < p[al]:
                    age[al, i] = 1
                    c += 1
                    if i < n_record:
                        spikes[t, al, i] = True
                elif age[al, i] <= ref:
                    age[al, i] += 1
            counts[t, al] = c
        for be in range(n_pop):
            if t >= delay:
                past = counts[t - delay, be]
            else:
                past = hist[delay - t - 1, be]
            s[be] = a * s[be] + (1.0 - a) * past / (sizes[be] * dt)
    # shift the history: hist[k] = count k + 1 steps before the next chunk
    depth = hist.shape[0]
    new = np.zeros_like(hist)
    for k in range(depth):
        src = n_steps - 1 - k
        for be in range(n_pop):
            new[k, be] = counts[src, be] if src >= 0 else hist[-src - 1, be]
    hist[:] = new
    return counts, spikes


def _micro_chunk(circuit, inputs, n_record, u, state):
    n_pop = circuit.sizes.size
    if state is None:
        age = np.full((n_pop, int(circuit.sizes.max())), circuit.refractory + 1, dtype=np.int64)
        state = (age, np.zeros(n_pop), np.zeros((circuit.delay + 1, n_pop), dtype=np.int64))
    age, s, hist = state
    a = math.exp(-circuit.dt / circuit.tau_syn)
    counts, spikes = _micro_chunk_kernel(
        circuit.sizes,
        circuit.coupling,
        circuit.bias,
        circuit.refractory,
        a,
        circuit.delay,
        circuit.dt,
        np.ascontiguousarray(inputs),
        n_record,
        u,
        age,
        s,
        hist,
    )
    return counts, spikes, state


@njit(cache=True)
def _meso_kernel(sizes, coupling, bias, ref, a, delay, dt, inputs, seed):  # pragma: no cover
    np.random.seed(seed)
    n_steps, n_pop = inputs.shape
    counts = np.zeros((n_steps, n_pop), dtype=np.int64)
    expected = np.zeros((n_steps, n_pop))
    s = np.zeros(n_pop)
    for t in range(n_steps):
        for al in range(n_pop):
            h = bias[al] + inputs[t, al]
            for be in range(n_pop):
                h += coupling[al, be] * s[be]
            h = min(max(h, -40.0), 8.0)
            p = -math.expm1(-dt * math.exp(h))
            free = sizes[al]
            for k in range(1, ref + 1):
                if t - k >= 0:
                    free -= counts[t - k, al]
            expected[t, al] = free * p
            counts[t, al] = np.random.binomial(free, p) if free > 0 else 0
        for be in range(n_pop):
            x = counts[t - delay, be] / (sizes[be] * dt) if t >= delay else 0.0
            s[be] = a * s[be] + (1.0 - a) * x
    return counts, expected


def simulate_meso(circuit, n_steps, *, rng, inputs=None) -> MesoRun:
    """Simulate the mesoscopic population equation (population counts only).

    .. math:: F_{\\alpha,t} = N_\\alpha - \\sum_{k=1}^{R} n_{\\alpha,t-k}, \\qquad
              n_{\\alpha,t} \\sim \\mathrm{Bin}(F_{\\alpha,t}, p_{\\alpha,t}),

    with :math:`p_{\\alpha,t}` and the synaptic filter of the module docstring.  For this
    neuron model it has the same law as :func:`simulate_micro`.

    Parameters
    ----------
    circuit : Circuit
        The network.
    n_steps : int
        Number of time steps :math:`T`.
    rng : numpy.random.Generator
        Source of randomness (seeds the kernel's binomial draws).
    inputs : array_like, shape (T, M), optional
        External input :math:`I_{\\alpha,t}` added to :math:`h` (default zero).

    Returns
    -------
    MesoRun
        Sampled and expected counts.
    """
    circuit = _check_circuit(circuit)
    n_steps = check_positive_int(n_steps, "n_steps")
    rng = check_generator(rng)
    inputs = _check_inputs(inputs, n_steps, circuit.sizes.size)
    counts, expected = _meso_kernel(
        circuit.sizes,
        circuit.coupling,
        circuit.bias,
        circuit.refractory,
        math.exp(-circuit.dt / circuit.tau_syn),
        circuit.delay,
        circuit.dt,
        inputs,
        int(rng.integers(2**31)),
    )
    return MesoRun(counts, expected)


# --- observation and likelihood --------------------------------------------------------------


def observe(spikes, refractory) -> Observation:
    """Reduce observed spike trains to spike and free counts per population.

    A neuron is free in step :math:`t` unless it spiked in one of the ``refractory`` steps
    before; every neuron is free at :math:`t = 0`.

    Parameters
    ----------
    spikes : array_like of bool or 0/1, shape (T, M, k)
        Spike trains of :math:`k` observed neurons of each of the :math:`M` populations.
    refractory : int
        Absolute refractory period :math:`R` in steps.

    Returns
    -------
    Observation
        :math:`y_{\\alpha,t}`, :math:`G_{\\alpha,t}` and :math:`k_\\alpha`.
    """
    arr = np.asarray(spikes)
    if not (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"spikes must be a boolean or 0/1 integer array; got dtype {arr.dtype}")
    if arr.ndim != 3:
        raise ValueError(f"spikes must have shape (T, M, k); got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"spikes must not be empty; got shape {arr.shape}")
    if arr.dtype != np.bool_ and np.any((arr != 0) & (arr != 1)):
        raise ValueError("spikes must contain only 0 and 1 (or False and True)")
    refractory = _check_lag(refractory, "refractory")
    arr = arr.astype(bool)
    if not arr.any():
        raise ValueError(
            "spikes contain no spike at all: the observed neurons carry no information; "
            "record longer or observe more neurons"
        )
    n_steps = arr.shape[0]
    refr = np.zeros(arr.shape, dtype=bool)
    for k in range(1, refractory + 1):
        refr[k:] |= arr[: n_steps - k]
    if np.any(arr & refr):
        t, al, i = np.argwhere(arr & refr)[0]
        raise ValueError(
            f"observed neuron {i} of population {al} spikes at step {t} within {refractory} "
            f"steps of its previous spike (refractory period violated)"
        )
    return Observation(
        spike_counts=arr.sum(axis=2).astype(np.float64),
        free_counts=(~refr).sum(axis=2).astype(np.float64),
        n_observed=np.full(arr.shape[1], arr.shape[2], dtype=np.int64),
    )


def _check_observation(observation, circuit: Circuit) -> Observation:
    if not isinstance(observation, Observation):
        raise TypeError(
            f"observation must be a memlab.populations.Observation (from observe); got "
            f"{type(observation).__name__}"
        )
    n_pop = circuit.sizes.size
    y = check_real_array(observation.spike_counts, "observation.spike_counts", ndim=2, low=0.0)
    g = check_real_array(observation.free_counts, "observation.free_counts", shape=y.shape)
    k = np.asarray(observation.n_observed)
    if k.dtype == np.bool_ or not np.issubdtype(k.dtype, np.integer):
        raise TypeError(f"observation.n_observed must be an integer array; got dtype {k.dtype}")
    k = k.astype(np.int64)
    if np.any(k < 0):
        raise ValueError(f"observation.n_observed must be >= 0; got {k.tolist()}")
    if y.shape[1] != n_pop or k.shape != (n_pop,):
        raise ValueError(f"observation has {y.shape[1]} populations but the circuit has {n_pop}")
    if np.any(k > circuit.sizes):
        raise ValueError(
            f"more observed neurons ({k.tolist()}) than neurons ({circuit.sizes.tolist()})"
        )
    return Observation(y, g, k)


@njit(cache=True)
def _loglik_kernel(
    z, y, g, sizes, n_obs, coupling, bias, ref, a, delay, dt, eps, inputs
):  # pragma: no cover
    """Joint log-likelihood, its observed part, dL/dz, dL/dh and the synaptic variables s."""
    n_steps, n_pop = z.shape
    s = np.zeros((n_steps, n_pop))
    x = np.zeros((n_steps, n_pop))
    for t in range(n_steps):
        for be in range(n_pop):
            x[t, be] = (y[t, be] + z[t, be]) / (sizes[be] * dt)
    for t in range(1, n_steps):
        for be in range(n_pop):
            past = x[t - 1 - delay, be] if t - 1 - delay >= 0 else 0.0
            s[t, be] = a * s[t - 1, be] + (1.0 - a) * past
    total = 0.0
    observed = 0.0
    g_z = np.zeros((n_steps, n_pop))
    g_h = np.zeros((n_steps, n_pop))
    for t in range(n_steps):
        for al in range(n_pop):
            h = bias[al] + inputs[t, al]
            for be in range(n_pop):
                h += coupling[al, be] * s[t, be]
            inside = _H_MIN < h < _H_MAX
            h = min(max(h, _H_MIN), _H_MAX)
            lam = dt * math.exp(h)
            p = -math.expm1(-lam)
            dp = (1.0 - p) * lam if inside else 0.0
            # observed neurons: K log p + (G - K) log(1 - p)
            k_sp = y[t, al]
            n_free = g[t, al]
            lo = 0.0
            if k_sp > 0:
                lo += k_sp * math.log(p)
                g_h[t, al] += k_sp * dp / p
            lo -= (n_free - k_sp) * lam
            if inside:
                g_h[t, al] -= (n_free - k_sp) * lam
            observed += lo
            # hidden neurons: Gaussian with the binomial's mean and variance
            free = sizes[al] - n_obs[al]
            for k in range(1, ref + 1):
                if t - k >= 0:
                    free -= z[t - k, al]
            clipped = free <= 0.0
            if clipped:
                free = 0.0
            m = free * p
            v = m * (1.0 - p) + eps
            r = z[t, al] - m
            total += -0.5 * r * r / v - 0.5 * math.log(2.0 * math.pi * v)
            g_z[t, al] += -r / v
            d_m = r / v
            d_v = 0.5 * r * r / (v * v) - 0.5 / v
            g_h[t, al] += (d_m * free + d_v * free * (1.0 - 2.0 * p)) * dp
            if not clipped:
                d_free = d_m * p + d_v * p * (1.0 - p)
                for k in range(1, ref + 1):
                    if t - k >= 0:
                        g_z[t - k, al] -= d_free
    total += observed
    # back through s -> x -> z
    q = np.zeros(n_pop)
    for u in range(n_steps - 1, -1, -1):
        # q = sum_{t >= u + delay + 1} a^(t - 1 - u - delay) g_s[t]
        tt = u + delay + 1
        if tt < n_steps:
            for be in range(n_pop):
                g_s = 0.0
                for al in range(n_pop):
                    g_s += coupling[al, be] * g_h[tt, al]
                q[be] = g_s + a * q[be]
            for be in range(n_pop):
                g_z[u, be] += (1.0 - a) * q[be] / (sizes[be] * dt)
    return total, observed, g_z, g_h, s


_EPS = 1.0


def _loglik(z, obs: Observation, circuit: Circuit, bias, coupling, inputs):
    return _loglik_kernel(
        z,
        obs.spike_counts,
        obs.free_counts,
        circuit.sizes.astype(np.float64),
        obs.n_observed.astype(np.float64),
        coupling,
        bias,
        circuit.refractory,
        math.exp(-circuit.dt / circuit.tau_syn),
        circuit.delay,
        circuit.dt,
        _EPS,
        inputs,
    )


def _check_latent(latent, obs: Observation, circuit: Circuit) -> np.ndarray:
    z = check_real_array(latent, "latent", shape=obs.spike_counts.shape, low=0.0)
    hidden = (circuit.sizes - obs.n_observed).astype(float)
    if np.any(z > hidden):
        raise ValueError(
            f"latent counts must not exceed the hidden neurons per population {hidden.tolist()}"
        )
    return z


def joint_log_likelihood(latent, observation, circuit, *, inputs=None) -> LogLikelihood:
    """Joint log-likelihood :math:`\\mathcal L(z, \\Theta)` of the module docstring, with gradients.

    Parameters
    ----------
    latent : array_like, shape (T, M)
        Hidden spike counts :math:`z_{\\alpha,t}` (real, :math:`0 \\le z \\le N - k`).
    observation : Observation
        Observed neurons (from :func:`observe`).
    circuit : Circuit
        Parameters :math:`\\Theta` (``bias`` :math:`\\mu`, ``coupling`` :math:`J`) and the fixed
        sizes, refractory period, filter and step.
    inputs : array_like, shape (T, M), optional
        External input :math:`I_{\\alpha,t}` (default zero).

    Returns
    -------
    LogLikelihood
        Value, its observed part, and the gradients with respect to :math:`z`,
        :math:`\\mu` and :math:`J`.
    """
    circuit = _check_circuit(circuit)
    obs = _check_observation(observation, circuit)
    z = _check_latent(latent, obs, circuit)
    inputs = _check_inputs(inputs, z.shape[0], z.shape[1])
    total, observed, g_z, g_h, s = _loglik(z, obs, circuit, circuit.bias, circuit.coupling, inputs)
    return LogLikelihood(float(total), float(observed), g_z, g_h.sum(axis=0), g_h.T @ s)


def empirical_latent(observation, circuit, *, smooth=0.0) -> np.ndarray:
    """Initial guess of the hidden activity from the observed neurons (the paper's initialisation).

    .. math:: z^{(0)}_{\\alpha,t} = (N_\\alpha - k_\\alpha)\\,\\tilde y_{\\alpha,t}/k_\\alpha,

    where :math:`\\tilde y` is :math:`y` smoothed with an exponential kernel of ``smooth`` steps
    (causal and anti-causal, so without lag), or :math:`y` itself if ``smooth`` is 0.

    Parameters
    ----------
    observation : Observation
        Observed neurons.
    circuit : Circuit
        Gives the population sizes.
    smooth : float
        Time constant of the smoothing in steps (>= 0).

    Returns
    -------
    numpy.ndarray, shape (T, M)
        Hidden counts in :math:`[0, N - k]`.
    """
    circuit = _check_circuit(circuit)
    obs = _check_observation(observation, circuit)
    smooth = check_nonneg_float(smooth, "smooth")
    k = np.maximum(obs.n_observed, 1).astype(float)
    rate = obs.spike_counts / k
    if smooth > 0:
        rate = _smooth(rate, smooth)
    hidden = (circuit.sizes - obs.n_observed).astype(float)
    return np.clip(rate * hidden, 0.0, hidden)


def _smooth(x, tau):
    """Symmetric exponential smoothing (forward then backward pass), unit area."""
    b = math.exp(-1.0 / tau)
    out = np.array(x, dtype=float)
    for direction in (1, -1):
        out = out[::direction]
        out = _exp_filter(np.ascontiguousarray(out), b)[::direction]
    return np.ascontiguousarray(out)


@njit(cache=True)
def _exp_filter(x, b):  # pragma: no cover
    out = np.empty_like(x)
    acc = x[0] * 0.0
    for t in range(x.shape[0]):
        acc = b * acc + (1.0 - b) * x[t]
        out[t] = acc
    return out


def map_latent(observation, circuit, *, init=None, inputs=None, max_iter=500) -> np.ndarray:
    """E-step: the most probable hidden activity, :math:`\\arg\\max_z \\mathcal L(z, \\Theta)`.

    L-BFGS-B on :math:`z` with the analytic gradient and bounds :math:`0 \\le z \\le N - k`,
    started from ``init``; the result is never worse than ``init``.

    Parameters
    ----------
    observation : Observation
        Observed neurons.
    circuit : Circuit
        Parameters :math:`\\Theta`.
    init : array_like, shape (T, M), optional
        Starting point (default :func:`empirical_latent` with smoothing 5 steps).
    inputs : array_like, shape (T, M), optional
        External input (default zero).
    max_iter : int
        Iteration limit of L-BFGS-B.

    Returns
    -------
    numpy.ndarray, shape (T, M)
        :math:`\\hat z`.
    """
    circuit = _check_circuit(circuit)
    obs = _check_observation(observation, circuit)
    if init is None:
        init = empirical_latent(obs, circuit, smooth=5.0)
    z0 = _check_latent(init, obs, circuit)
    max_iter = check_positive_int(max_iter, "max_iter")
    inputs = _check_inputs(inputs, z0.shape[0], z0.shape[1])
    return _estep(z0, obs, circuit, inputs, max_iter)


def _estep(z0, obs, circuit, inputs, max_iter):
    shape = z0.shape
    hidden = (circuit.sizes - obs.n_observed).astype(float)
    upper = np.broadcast_to(hidden, shape).ravel()

    def f(flat):
        total, _, g_z, _, _ = _loglik(
            flat.reshape(shape), obs, circuit, circuit.bias, circuit.coupling, inputs
        )
        return -total, -g_z.ravel()

    bounds = np.stack([np.zeros(upper.size), upper], axis=1)
    # L-BFGS-B's many small BLAS calls: one thread (several threads spin on a loaded machine:
    # 0.47 s instead of 0.016 s per iteration for T * M = 30000, measured 2026-12-02).
    with single_threaded_blas():
        res = minimize(
            f,
            z0.ravel(),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "maxcor": 20},
        )
    best = res.x if res.fun <= f(z0.ravel())[0] else z0.ravel()
    return np.clip(best, 0.0, upper).reshape(shape)


def fit_parameters(latent, observation, circuit, *, inputs=None, max_iter=200) -> Circuit:
    """M-step: :math:`\\arg\\max_{\\mu, J}\\mathcal L(z, \\Theta)` at fixed :math:`z`.

    L-BFGS on the :math:`M + M^2` biases and couplings, started from ``circuit``; the result is
    never worse than the start.

    Parameters
    ----------
    latent : array_like, shape (T, M)
        Hidden activity :math:`z`.
    observation : Observation
        Observed neurons.
    circuit : Circuit
        Starting parameters (sizes, refractoriness, filter and step are kept).
    inputs : array_like, shape (T, M), optional
        External input (default zero).
    max_iter : int
        Iteration limit.

    Returns
    -------
    Circuit
        ``circuit`` with fitted ``bias`` and ``coupling``.
    """
    circuit = _check_circuit(circuit)
    obs = _check_observation(observation, circuit)
    z = _check_latent(latent, obs, circuit)
    max_iter = check_positive_int(max_iter, "max_iter")
    inputs = _check_inputs(inputs, z.shape[0], z.shape[1])
    return _mstep(z, obs, circuit, inputs, max_iter)


def _mstep(z, obs, circuit, inputs, max_iter):
    n_pop = circuit.sizes.size

    def f(theta):
        bias, coupling = theta[:n_pop], theta[n_pop:].reshape(n_pop, n_pop)
        total, _, _, g_h, s = _loglik(z, obs, circuit, bias, coupling, inputs)
        grad = np.concatenate([g_h.sum(axis=0), (g_h.T @ s).ravel()])
        return -total, -grad

    theta0 = np.concatenate([circuit.bias, circuit.coupling.ravel()])
    with single_threaded_blas():
        res = minimize(f, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    theta = res.x if res.fun <= f(theta0)[0] and np.all(np.isfinite(res.x)) else theta0
    return circuit._replace(bias=theta[:n_pop].copy(), coupling=theta[n_pop:].reshape(n_pop, n_pop))


def fit_neulvm(
    observation, circuit, *, n_iter=10, init=None, smooth=5.0, inputs=None, progress=False
) -> FitResult:
    """Fit the neuLVM by MAP expectation maximisation.

    Start from :math:`z^{(0)}` (:func:`empirical_latent`, or ``init``), then alternate the
    M-step (:func:`fit_parameters`) and the E-step (:func:`map_latent`), starting and ending
    with an M-step.  Both steps only accept improvements, so :math:`\\mathcal L` never
    decreases.

    Parameters
    ----------
    observation : Observation
        Observed neurons.
    circuit : Circuit
        Initial parameters (``bias``, ``coupling``); the rest is taken as known.
    n_iter : int
        Number of E-steps.
    init : array_like, shape (T, M), optional
        Initial hidden activity.
    smooth : float
        Smoothing (steps) of the default initial hidden activity.
    inputs : array_like, shape (T, M), optional
        External input during the recording (default zero).
    progress : bool
        Show a progress bar.

    Returns
    -------
    FitResult
        Fitted circuit, MAP latent activity, inferred population activity and the
        log-likelihood after every step.
    """
    circuit = _check_circuit(circuit)
    obs = _check_observation(observation, circuit)
    n_iter = check_nonneg_int(n_iter, "n_iter")
    if n_iter > _MAX_ITER:
        raise ValueError(f"n_iter must be at most {_MAX_ITER}; got {n_iter}")
    smooth = check_nonneg_float(smooth, "smooth")
    progress = check_bool(progress, "progress")
    z = _check_latent(
        empirical_latent(obs, circuit, smooth=smooth) if init is None else init, obs, circuit
    )
    inputs = _check_inputs(inputs, z.shape[0], z.shape[1])

    def value(z, c):
        return float(_loglik(z, obs, circuit, c.bias, c.coupling, inputs)[0])

    circuit = _mstep(z, obs, circuit, inputs, 200)
    trace = [value(z, circuit)]
    steps = range(n_iter)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="EM")
    for _ in steps:
        z = _estep(z, obs, circuit, inputs, 500)
        trace.append(value(z, circuit))
        circuit = _mstep(z, obs, circuit, inputs, 200)
        trace.append(value(z, circuit))
    activity = (z + obs.spike_counts) / circuit.sizes
    return FitResult(circuit, z, activity, np.array(trace))


# --- Monte-Carlo EM with a particle smoother -------------------------------------------------


class ParticleFit(NamedTuple):
    """Result of :func:`fit_neulvm_particle`.

    Attributes
    ----------
    circuit : Circuit
        Fitted circuit (fitted ``bias`` and ``coupling``, the rest as given).
    activity : numpy.ndarray, shape (T, M)
        Posterior mean of the population activity :math:`(y + z)/N` (spikes per neuron per
        step) under the last E-step's particle smoother.
    log_marginal : numpy.ndarray, shape (n_iter,)
        Particle estimate of :math:`\\log p(y \\mid \\Theta)` at the parameters of each E-step.
    """

    circuit: Circuit
    activity: np.ndarray
    log_marginal: np.ndarray


@njit(cache=True)
def _particle_kernel(
    y, g, n_obs, sizes, coupling, bias, ref, a, delay, dt, inputs, n_particles, seed
):  # pragma: no cover
    """Bootstrap particle filter of the hidden counts with systematic resampling.

    Returns the ancestor of every particle (``anc[t, i]``: index at step t - 1 of the parent
    of particle i at step t, before its step-t count is drawn), per particle and step the
    statistics the M-step needs (total count n, total free neurons F, synaptic variable s,
    for each population) and the log-marginal-likelihood estimate.
    """
    np.random.seed(seed)
    n_steps, n_pop = y.shape
    P = n_particles
    n_ref = max(ref, 1)
    # per particle: hidden counts 1..ref steps ago (a ring buffer: slot (t - 1 - k) % n_ref
    # holds step t - 1 - k), their sum (the refractory hidden neurons), total rates 0..delay
    # steps ago (ring), synaptic variables, firing probabilities; each twice, for resampling
    hist, hist2 = np.zeros((P, n_ref, n_pop)), np.zeros((P, n_ref, n_pop))
    busy, busy2 = np.zeros((P, n_pop)), np.zeros((P, n_pop))
    xbuf, xbuf2 = np.zeros((P, delay + 1, n_pop)), np.zeros((P, delay + 1, n_pop))
    s, s2 = np.zeros((P, n_pop)), np.zeros((P, n_pop))
    p, p2 = np.zeros((P, n_pop)), np.zeros((P, n_pop))
    anc = np.zeros((n_steps, P), dtype=np.int32)
    stats = np.zeros((n_steps, P, 3 * n_pop), dtype=np.float32)
    logw = np.zeros(P)
    w = np.zeros(P)
    idx = np.empty(P, dtype=np.int32)
    log_marginal = 0.0
    for t in range(n_steps):
        # the observed spikes of step t weight each particle's past
        for i in range(P):
            lw = 0.0
            for al in range(n_pop):
                h = bias[al] + inputs[t, al]
                for be in range(n_pop):
                    h += coupling[al, be] * s[i, be]
                h = min(max(h, -40.0), 8.0)
                lam = dt * math.exp(h)
                q = -math.expm1(-lam)
                p[i, al] = q
                if y[t, al] > 0:
                    lw += y[t, al] * math.log(q)
                lw -= (g[t, al] - y[t, al]) * lam
            logw[i] = lw
        top = logw.max()
        total = 0.0
        for i in range(P):
            w[i] = math.exp(logw[i] - top)
            total += w[i]
        log_marginal += top + math.log(total / P)
        # systematic resampling
        u0 = np.random.random() / P
        cum = w[0] / total
        j = 0
        for i in range(P):
            u = u0 + i / P
            while u > cum and j < P - 1:
                j += 1
                cum += w[j] / total
            idx[i] = j
        anc[t] = idx
        for i in range(P):
            j = idx[i]
            hist2[i] = hist[j]
            xbuf2[i] = xbuf[j]
            busy2[i] = busy[j]
            s2[i] = s[j]
            p2[i] = p[j]
        hist, hist2 = hist2, hist
        xbuf, xbuf2 = xbuf2, xbuf
        busy, busy2 = busy2, busy
        s, s2 = s2, s
        p, p2 = p2, p
        # draw the hidden counts of step t from the population equation
        slot = t % n_ref  # holds step t - ref: it leaves the refractory period now
        now = t % (delay + 1)  # ring slot of step t
        late = (t + 1) % (delay + 1)  # = (t - delay) % (delay + 1): the rate delay steps ago
        for i in range(P):
            for al in range(n_pop):
                free = sizes[al] - n_obs[al] - busy[i, al]
                z = np.random.binomial(int(free), p[i, al]) if free > 0 else 0
                stats[t, i, al] = y[t, al] + z
                stats[t, i, n_pop + al] = g[t, al] + free
                stats[t, i, 2 * n_pop + al] = s[i, al]
                if ref > 0:
                    busy[i, al] += z - hist[i, slot, al]
                    hist[i, slot, al] = z
                xbuf[i, now, al] = (y[t, al] + z) / (sizes[al] * dt)
                s[i, al] = a * s[i, al] + (1.0 - a) * xbuf[i, late, al]
    return anc, stats, log_marginal


@njit(cache=True)
def _trace_back(anc, lag):  # pragma: no cover
    """Index, at each step t, of the ancestors of the particles of step min(t + lag, T - 1)."""
    n_steps, P = anc.shape
    out = np.empty((n_steps, P), dtype=np.int32)
    for t in range(n_steps):
        idx = np.arange(P).astype(np.int32)
        for u in range(min(t + lag, n_steps - 1), t, -1):
            idx = anc[u][idx]
        out[t] = idx
    return out


def _particle_estep(obs, circuit, inputs, n_particles, lag, seed):
    anc, stats, log_marginal = _particle_kernel(
        obs.spike_counts,
        obs.free_counts,
        obs.n_observed.astype(np.float64),
        circuit.sizes.astype(np.float64),
        circuit.coupling,
        circuit.bias,
        circuit.refractory,
        math.exp(-circuit.dt / circuit.tau_syn),
        circuit.delay,
        circuit.dt,
        inputs,
        n_particles,
        seed,
    )
    idx = _trace_back(anc, lag)
    return stats[np.arange(stats.shape[0])[:, None], idx], log_marginal


@njit(cache=True)
def _binomial_terms(theta, stats, al, inputs, n_use, dt, derivatives):  # pragma: no cover
    r"""Value, gradient and Hessian of population ``al``'s complete-data log-likelihood.

    Rows ``r`` of ``stats`` (step ``r // n_use``) hold the counts n, free neurons F and synaptic
    variables s of every population; with :math:`h = \theta_0 + \sum_\beta \theta_{1+\beta}
    s_\beta + I`, clipped to ``[_H_MIN, _H_MAX]``, :math:`\lambda = \Delta t\, e^h`,

    .. math::
        \ell(\theta) = \sum_r n \log(1 - e^{-\lambda}) - (F - n)\lambda, \qquad
        \frac{\partial\ell}{\partial h} = \frac{n\lambda}{e^\lambda - 1} - (F - n)\lambda,
        \qquad \frac{\partial^2\ell}{\partial h^2} = n\lambda\,
        \frac{e^\lambda - 1 - \lambda e^\lambda}{(e^\lambda - 1)^2} - (F - n)\lambda \le 0,

    so :math:`\ell` is concave in :math:`\theta` (zero derivatives where h is clipped).
    """
    m = inputs.shape[1]
    k = m + 1
    value = 0.0
    grad = np.zeros(k)
    hess = np.zeros((k, k))
    x = np.empty(k)
    x[0] = 1.0
    for r in range(stats.shape[0]):
        n = stats[r, al]
        free = stats[r, m + al]
        h = theta[0] + inputs[r // n_use, al]
        for b in range(m):
            x[1 + b] = stats[r, 2 * m + b]
            h += theta[1 + b] * x[1 + b]
        inside = h > _H_MIN and h < _H_MAX
        h = min(max(h, _H_MIN), _H_MAX)
        lam = dt * math.exp(h)
        if n > 0:
            value += n * math.log(-math.expm1(-lam))
        value -= (free - n) * lam
        if derivatives and inside:
            # with q = e^-lam: lam / (e^lam - 1) = lam q / (1 - q) and
            # (e^lam - 1 - lam e^lam) / (e^lam - 1)^2 = q (1 - q - lam) / (1 - q)^2,
            # finite for every lam (e^lam overflows beyond lam ~ 709, i.e. h near _H_MAX)
            q = math.exp(-lam)
            one_q = -math.expm1(-lam)
            if lam < 1e-3:  # 1 - q - lam by its series (no cancellation)
                curv = -q * lam * lam * (0.5 - lam / 6.0) / (one_q * one_q)
            else:
                curv = q * (one_q - lam) / (one_q * one_q)
            d1 = n * lam * q / one_q - (free - n) * lam
            d2 = n * lam * curv - (free - n) * lam
            for a in range(k):
                grad[a] += d1 * x[a]
                for b in range(a + 1):
                    hess[a, b] += d2 * x[a] * x[b]
    for a in range(k):
        for b in range(a):
            hess[b, a] = hess[a, b]
    return value, grad, hess


def _binomial_mstep(samples, circuit, inputs, n_use, max_iter=50):
    r"""Maximise the complete-data log-likelihood averaged over smoothed particles.

    Every neuron, observed or hidden, contributes :math:`n\log p + (F - n)\log(1 - p)`
    (the exact binomial law of the population equation), so the M-step is unbiased given
    samples of the hidden activity. The log-likelihood separates over populations and is
    concave in each population's bias and couplings (:func:`_binomial_terms`): Newton's method
    with a backtracking line search, to a Newton decrement below 1e-6 nats (3-5 steps).
    """
    n_steps, n_part, _ = samples.shape
    m = circuit.sizes.size
    keep = np.linspace(0, n_part - 1, min(n_use, n_part)).round().astype(int)
    stats = np.ascontiguousarray(samples[:, keep].reshape(-1, 3 * m), dtype=np.float64)
    inputs = np.ascontiguousarray(inputs, dtype=np.float64)
    bias, coupling = circuit.bias.copy(), circuit.coupling.copy()
    for al in range(m):
        theta = np.concatenate([[bias[al]], coupling[al]])
        for _ in range(max_iter):
            current, grad, hess = _binomial_terms(
                theta, stats, al, inputs, keep.size, circuit.dt, True
            )
            ridge = 1e-9 * max(1.0, -np.trace(hess))
            step = np.linalg.solve(hess - ridge * np.eye(m + 1), -grad)
            decrement = grad @ step  # >= 0: twice the predicted gain of the Newton step
            if not np.isfinite(decrement) or decrement < 1e-6:
                break
            t = 1.0
            while t > 1e-8:
                trial = theta + t * step
                value = _binomial_terms(trial, stats, al, inputs, keep.size, circuit.dt, False)[0]
                if value >= current + 1e-4 * t * decrement:
                    break
                t *= 0.5
            else:
                break  # no ascent along the Newton direction: at the optimum to rounding
            theta = trial
        bias[al], coupling[al] = theta[0], theta[1:]
    return circuit._replace(bias=bias, coupling=coupling)


def fit_neulvm_particle(
    observation,
    circuit,
    *,
    rng,
    n_iter=40,
    n_particles=100,
    lag=40,
    inputs=None,
    progress=False,
) -> ParticleFit:
    """Fit the neuLVM by Monte-Carlo EM with a particle smoother (instead of MAP-EM).

    Start from the fit of the recorded neurons alone (each population's recorded neurons
    standing in for the whole population, :math:`N = k`: a GLM pooled by population, fitted by
    the exact M-step), then alternate

    - **E-step:** a bootstrap particle filter of the hidden counts under the current
      parameters (each particle draws :math:`z_{\\alpha,t} \\sim \\mathrm{Bin}(F^h_{\\alpha,t},
      p_{\\alpha,t})` from the population equation and is weighted by the Bernoulli
      likelihood of the recorded spikes of step t, systematic resampling every step),
      smoothed with a fixed lag: the sample for step t is the ancestor, at t, of the particles
      of step t + ``lag``;
    - **M-step:** maximise the exact complete-data log-likelihood
      :math:`\\sum_{t,\\alpha} n\\log p + (F - n)\\log(1 - p)` (all neurons, recorded and hidden,
      :math:`n = y + z`, :math:`F = G + F^h`) averaged over the smoothed samples.

    Unlike MAP-EM this is (Monte-Carlo) EM for the marginal likelihood
    :math:`p(y \\mid \\Theta)`: no Gaussian relaxation of the counts and no single latent
    trajectory enter the M-step, so its fixed point is not biased towards stiffer circuits.
    EM converges slowly here (the hidden neurons carry most of the information), hence the
    default of 40 iterations and the start close to the data (starting from the MAP-EM
    initialisation, the M-step on :func:`empirical_latent`, can leave EM far from the optimum
    after 40 iterations).

    Parameters
    ----------
    observation : Observation
        Observed neurons (from :func:`observe`).
    circuit : Circuit
        Initial parameters (``bias``, ``coupling``); the rest is taken as known.
    rng : numpy.random.Generator
        Source of randomness (seeds the particle filter of every E-step).
    n_iter : int
        Number of E-steps.
    n_particles : int
        Particles of the filter (>= 2).
    lag : int
        Smoothing lag in steps (>= 0; 0 gives the filtering distribution).
    inputs : array_like, shape (T, M), optional
        External input during the recording (default zero).
    progress : bool
        Show a progress bar.

    Returns
    -------
    ParticleFit
        Fitted circuit, posterior-mean activity and the log-marginal-likelihood estimates.
    """
    circuit = _check_circuit(circuit)
    obs = _check_observation(observation, circuit)
    rng = check_generator(rng)
    n_iter = check_nonneg_int(n_iter, "n_iter")
    if n_iter > _MAX_ITER:
        raise ValueError(f"n_iter must be at most {_MAX_ITER}; got {n_iter}")
    n_particles = check_positive_int(n_particles, "n_particles", minimum=2)
    if n_particles > _MAX_PARTICLES:
        raise ValueError(f"n_particles must be at most {_MAX_PARTICLES}; got {n_particles}")
    lag = _check_lag(lag, "lag")
    progress = check_bool(progress, "progress")
    y, g = obs.spike_counts, obs.free_counts
    if np.any(y != np.round(y)) or np.any(g != np.round(g)):
        raise ValueError("the particle filter needs integer spike and free counts (from observe)")
    if np.any(y > g) or np.any(g > obs.n_observed):
        raise ValueError(
            "observation must have spike counts <= free counts <= observed neurons (from observe)"
        )
    n_steps, n_pop = obs.spike_counts.shape
    if n_steps * n_particles * n_pop > _MAX_PARTICLE_VALUES:
        raise ValueError(
            f"T * n_particles * M = {n_steps * n_particles * n_pop} exceeds "
            f"{_MAX_PARTICLE_VALUES} (memory); use fewer particles or a shorter recording"
        )
    inputs = _check_inputs(inputs, n_steps, n_pop)
    if np.all(obs.n_observed > 0):
        # the recorded neurons alone (no hidden ones): the exact Bernoulli M-step
        glm = _mstep(np.zeros_like(y), obs, circuit._replace(sizes=obs.n_observed), inputs, 200)
        circuit = circuit._replace(bias=glm.bias, coupling=glm.coupling)
    activity = (empirical_latent(obs, circuit) + y) / circuit.sizes
    trace = []
    steps = range(n_iter)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="particle EM")
    for _ in steps:
        samples, log_marginal = _particle_estep(
            obs, circuit, inputs, n_particles, lag, int(rng.integers(2**31))
        )
        trace.append(log_marginal)
        circuit = _binomial_mstep(samples, circuit, inputs, 25)
        activity = samples[:, :, :n_pop].mean(axis=1) / circuit.sizes
    return ParticleFit(circuit, activity.astype(np.float64), np.array(trace))


# --- analysis --------------------------------------------------------------------------------


def dwell_times(counts, sizes, *, smooth=20.0, min_dwell=50, dt=1.0) -> Dwell:
    """Winner population over time and its dwell times.

    The activity :math:`n_{\\alpha,t}/N_\\alpha` is smoothed (symmetric exponential kernel of
    ``smooth`` steps); the winner is the population with the largest smoothed activity.
    Episodes shorter than ``min_dwell`` steps are merged into the episode before them.

    Parameters
    ----------
    counts : array_like, shape (T, M)
        Spike counts per population and step.
    sizes : array_like of int, shape (M,)
        Neurons per population.
    smooth : float
        Smoothing time constant in steps (> 0).
    min_dwell : int
        Shortest episode kept, in steps (>= 1).
    dt : float
        Time step in ms (durations are returned in ms).

    Returns
    -------
    Dwell
        Winner sequence and completed dwell times in ms.
    """
    counts = check_real_array(counts, "counts", ndim=2, low=0.0)
    sizes = check_real_array(sizes, "sizes", shape=(counts.shape[1],), low=1.0)
    smooth = check_positive_float(smooth, "smooth")
    min_dwell = min(check_positive_int(min_dwell, "min_dwell"), counts.shape[0])
    dt = check_positive_float(dt, "dt")
    winner = np.argmax(_smooth(counts / sizes, smooth), axis=1).astype(np.int64)
    winner = _merge_short(winner, min_dwell)
    change = np.flatnonzero(np.diff(winner)) + 1
    edges = np.concatenate([[0], change, [winner.size]])
    lengths = np.diff(edges)[1:-1]
    return Dwell(winner, lengths * dt)


@njit(cache=True)
def _merge_short(winner, min_dwell):  # pragma: no cover
    out = winner.copy()
    n = out.size
    start = 0
    current = out[0]
    t = 1
    while t <= n:
        if t == n or winner[t] != winner[t - 1]:
            if t - start < min_dwell and start > 0:
                for u in range(start, t):
                    out[u] = current
            else:
                current = winner[start]
            start = t
        t += 1
    return out
