"""Every common mistake reaches its diagnosis (issue 20, item 5): the table of mistakes, tested.

Each row of `MISTAKES` is one slip a learner is likely to make in one exercise function (a sign, an
axis, an off-by-one, a unit or parameterisation), written as a patch of the reference solution
(`old` -> `new`, inside the function's `# BEGIN SOLUTION` block). The test writes the patched module
where a learner's file would be, loads it as the `lesson` fixture does, runs the exercise test that
should catch the slip (every parametrisation of it), and asserts that the learner reads `hint`, text
that names the slip. An exception raised by the patched code counts as what the conftest hook
reports for it (its one line, where, and what the function should do).

CONTRIBUTING.md carries the same table ("Common mistakes and the hint each gets"); a test checks
that it is the table below. After changing a row, print the table with

    python tests/test_exercise_mistakes.py

and paste it into CONTRIBUTING.md.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "tests" / "exercises"
if str(EXERCISES) not in sys.path:
    sys.path.insert(0, str(EXERCISES))

import helpers  # noqa: E402  (tests/exercises/helpers.py)

from minirl.exercises import BEGIN, END, find_blocks, get_lesson, make_stub  # noqa: E402


@dataclass(frozen=True)
class Mistake:
    lesson: str          # "01"
    function: str        # the exercise function, as the stub names it
    mistake: str         # the slip, in words
    old: str             # text of the reference solution block ...
    new: str             # ... and what the slip writes instead
    test: str            # the exercise test that catches it
    hint: str            # text of the message the learner reads (names the slip)


MISTAKES: tuple[Mistake, ...] = (
    # ---------------------------------------------------------------- lesson 01: autograd
    Mistake("01", "_unbroadcast", "skips the stretched length-1 axes (sums only the added leading axes)",
            "    if axes:                                         # axes of length 1 stretched by broadcasting\n"
            "        grad = grad.sum(axis=axes, keepdims=True)\n", "",
            "test_unbroadcast_sums_over_broadcast_axes", "sum length-1 axes with keepdims"),
    Mistake("01", "_unbroadcast", "sums the last axes instead of the added leading ones",
            "grad = grad.sum(axis=tuple(range(extra)))", "grad = grad.sum(axis=tuple(range(-extra, 0)))",
            "test_unbroadcast_sums_over_broadcast_axes", "sum the added leading axes away"),
    Mistake("01", "_unbroadcast", "sums the first axes instead of the added leading ones (off by one)",
            "grad = grad.sum(axis=tuple(range(extra)))", "grad = grad.sum(axis=tuple(range(1, extra + 1)))",
            "test_unbroadcast_sums_over_broadcast_axes", "sum the added leading axes away"),
    Mistake("01", "Tensor.__mul__.backward", "multiplies by the input itself (g * a for a)",
            "_unbroadcast(g * b.data, a.shape)", "_unbroadcast(g * a.data, a.shape)",
            "test_mul_backward", "a.grad is g * a, but d(ab)/da = b"),
    Mistake("01", "Tensor.__mul__.backward", "forgets the upstream gradient g",
            "_unbroadcast(g * b.data, a.shape)", "_unbroadcast(b.data + 0 * g, a.shape)",
            "test_mul_backward", "a.grad is b without the upstream gradient"),
    Mistake("01", "Tensor.__mul__.backward", "does not reduce a broadcast input's gradient",
            "gb = _unbroadcast(g * a.data, b.shape) if", "gb = (g * a.data) if",
            "test_mul_backward_with_broadcasting", "reduce the gradient to the input's shape with _unbroadcast"),
    Mistake("01", "Tensor.__matmul__.backward", "transposes the wrong factor (B G^T for A)",
            "ga = G @ np.swapaxes(B, -1, -2)", "ga = B @ np.swapaxes(G, -1, -2)",
            "test_matmul_backward", "check which factor is transposed"),
    Mistake("01", "Tensor.__matmul__.backward", "forgets the transpose (A G for B)",
            "gb = np.swapaxes(A, -1, -2) @ G", "gb = A @ G",
            "test_matmul_backward", "dL/dB = A^T G has B's shape"),
    Mistake("01", "Tensor.__matmul__.backward", "transposes with .T (reverses the batch axes too)",
            "ga = G @ np.swapaxes(B, -1, -2)", "ga = G @ B.T",
            "test_matmul_backward", "dL/dA = G B^T has A's shape"),
    Mistake("01", "Tensor.exp.backward", "uses the input instead of the output, g * x",
            "return (g * out,)", "return (g * self.data,)",
            "test_exp_backward", "d exp(x)/dx = exp(x) (the output itself)"),
    Mistake("01", "Tensor.exp.backward", "forgets the upstream gradient g",
            "return (g * out,)", "return (out + 0 * g,)",
            "test_exp_backward", "d exp(x)/dx = exp(x) (the output itself), times g"),
    Mistake("01", "Tensor.exp.backward", "a sign slip, -g * exp(x)",
            "return (g * out,)", "return (-g * out,)",
            "test_exp_backward", "Your values have the wrong sign"),
    Mistake("01", "Tensor.tanh.backward", "forgets to square, 1 - tanh(x)",
            "local = np.square(out, out=np.empty_like(out))", "local = out.copy()",
            "test_tanh_backward", "did you forget to square?"),
    Mistake("01", "Tensor.tanh.backward", "squares the input, 1 - x^2",
            "local = np.square(out, out=np.empty_like(out))", "local = np.square(self.data)",
            "test_tanh_backward", "square the output tanh(x), not the input x"),
    Mistake("01", "Tensor.tanh.backward", "a sign slip, tanh(x)^2 - 1",
            "np.subtract(1, local, out=local)", "np.subtract(local, 1, out=local)",
            "test_tanh_backward", "Your values have the wrong sign"),
    Mistake("01", "Tensor.sum.backward", "broadcasts g without re-inserting the summed axes",
            "g = _expand_reduced(g, axis, keepdims, a.ndim)\n            return (np.broadcast_to(g, a.shape),)",
            "return (np.broadcast_to(g, a.shape),)",
            "test_sum_backward", "put them back with np.expand_dims(g, axis)"),
    Mistake("01", "Tensor.sum.backward", "returns g unchanged (not broadcast to the input's shape)",
            "g = _expand_reduced(g, axis, keepdims, a.ndim)\n            return (np.broadcast_to(g, a.shape),)",
            "return (g,)",
            "test_sum_backward", "broadcast g back to the input's shape"),
    Mistake("01", "Tensor.sum.backward", "divides by the number of entries (the mean's rule)",
            "return (np.broadcast_to(g, a.shape),)\n            # END", "return (np.broadcast_to(g, a.shape) / (a.size / g.size),)\n            # END",
            "test_sum_backward", "d sum/dx_i = 1"),
    Mistake("01", "Tensor.log_softmax.backward", "drops the softmax term (returns g)",
            "return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)", "return (g,)",
            "test_log_softmax_backward", "the -softmax(x) * sum(g) term is missing"),
    Mistake("01", "Tensor.log_softmax.backward", "forgets to sum g over the axis",
            "return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)", "return (g - np.exp(out) * g,)",
            "test_log_softmax_backward", "the second term sums g over the softmax axis"),
    Mistake("01", "Tensor.log_softmax.backward", "sums g over the wrong axis",
            "return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)",
            "return (g - np.exp(out) * g.sum(axis=0 if axis != 0 else -1, keepdims=True),)",
            "test_log_softmax_backward", "summing over the same axis as the softmax"),
    # ---------------------------------------------------------------- lesson 02: distributions
    Mistake("02", "Categorical.sample", "counts the cdf entries above u instead of those at or below it",
            "k = (u >= cdf).sum(axis=-1)", "k = (u < cdf).sum(axis=-1)",
            "test_categorical_sample_inverts_the_cdf", "you counted the cdf entries ABOVE u"),
    Mistake("02", "Categorical.sample", "subtracts 1 (counts as if the first category were k = 1)",
            "k = (u >= cdf).sum(axis=-1)", "k = (u >= cdf).sum(axis=-1) - 1",
            "test_categorical_sample_inverts_the_cdf", "every sample is one less than expected"),
    Mistake("02", "Categorical.sample", "counts over the batch axis",
            "k = (u >= cdf).sum(axis=-1)", "k = (u >= cdf).sum(axis=0)",
            "test_categorical_sample_inverts_the_cdf", "a sum or mean over the wrong axis?"),
    Mistake("02", "Categorical.entropy", "forgets the minus sign",
            "return -(p * log_p).sum(axis=-1)", "return (p * log_p).sum(axis=-1)",
            "test_categorical_entropy", "did you forget the minus?"),
    Mistake("02", "Categorical.entropy", "sums over the batch axis",
            "return -(p * log_p).sum(axis=-1)", "return -(p * log_p).sum(axis=0)",
            "test_categorical_entropy", "a sum or mean over the wrong axis?"),
    Mistake("02", "Categorical.entropy", "averages over the actions instead of summing",
            "return -(p * log_p).sum(axis=-1)", "return -(p * log_p).mean(axis=-1)",
            "test_categorical_entropy", "average over the 3 actions"),
    Mistake("02", "Categorical.gumbel_softmax_st", "ignores the temperature",
            "y_soft = (perturbed * (1.0 / temperature)).softmax(axis=-1)", "y_soft = perturbed.softmax(axis=-1)",
            "test_gumbel_softmax_st_forward_and_backward", "your gradient ignores the temperature"),
    Mistake("02", "Categorical.gumbel_softmax_st", "multiplies by the temperature instead of dividing",
            "y_soft = (perturbed * (1.0 / temperature)).softmax(axis=-1)", "y_soft = (perturbed * temperature).softmax(axis=-1)",
            "test_gumbel_softmax_st_forward_and_backward", "you multiplied by the temperature"),
    Mistake("02", "Categorical.gumbel_softmax_st", "returns the relaxed sample (no straight-through)",
            "return straight_through(hard, y_soft)", "return y_soft",
            "test_gumbel_softmax_st_forward_and_backward", "the forward value is not one-hot"),
    Mistake("02", "Normal.rsample", "uses log_std as the standard deviation",
            "return self.mean + self.std * eps", "return self.mean + self.log_std * eps",
            "test_normal_rsample_is_reparameterised", "use log_std as the std"),
    Mistake("02", "Normal.rsample", "cuts the graph (the std as a plain array)",
            "return self.mean + self.std * eps", "return self.mean + Tensor(self.std.data * eps)",
            "test_normal_rsample_is_reparameterised", "no gradient reached log_std"),
    Mistake("02", "Normal.rsample", "adds the variance, mean + std^2 * eps",
            "return self.mean + self.std * eps", "return self.mean + self.std * self.std * eps",
            "test_normal_rsample_is_reparameterised", "scale eps by the variance"),
    Mistake("02", "Normal.log_prob", "forgets the -log sigma term",
            "return (-0.5 * z * z - self.log_std - 0.5 * _LOG_2PI).sum(axis=-1)",
            "return (-0.5 * z * z - 0.5 * _LOG_2PI).sum(axis=-1)",
            "test_normal_log_prob", "check -log sigma"),
    Mistake("02", "Normal.log_prob", "divides by the variance in z (units: sigma^2 for sigma)",
            "z = (a - self.mean) / self.std ", "z = (a - self.mean) / (self.std * self.std) ",
            "test_normal_log_prob", "divide a - mu by the variance"),
    Mistake("02", "Normal.log_prob", "sums over the batch axis",
            "return (-0.5 * z * z - self.log_std - 0.5 * _LOG_2PI).sum(axis=-1)",
            "return (-0.5 * z * z - self.log_std - 0.5 * _LOG_2PI).sum(axis=0)",
            "test_normal_log_prob", "a sum or mean over the wrong axis?"),
    Mistake("02", "Normal.kl", "computes KL(q || p) (the arguments swapped)",
            "var_p, var_q = self.std * self.std, other.std * other.std\n        diff = self.mean - other.mean\n"
            "        return (other.log_std - self.log_std + (var_p + diff * diff) / (2.0 * var_q) - 0.5)",
            "var_p, var_q = other.std * other.std, self.std * self.std\n        diff = self.mean - other.mean\n"
            "        return (self.log_std - other.log_std + (var_p + diff * diff) / (2.0 * var_q) - 0.5)",
            "test_normal_kl", "you computed KL(q || p)"),
    Mistake("02", "Normal.kl", "forgets the 2 in 2 sigma_q^2",
            "(var_p + diff * diff) / (2.0 * var_q)", "(var_p + diff * diff) / var_q",
            "test_normal_kl", "drop the 2 in 2 sigma_q^2"),
    Mistake("02", "Normal.kl", "a sign slip in the log-ratio, log(sigma_p / sigma_q)",
            "return (other.log_std - self.log_std +", "return (self.log_std - other.log_std +",
            "test_normal_kl", "flip the log-ratio"),
    Mistake("02", "Normal.kl", "sums over the batch axis",
            "- 0.5).sum(axis=-1)", "- 0.5).sum(axis=0)",
            "test_normal_kl", "a sum or mean over the wrong axis?"),
    # ---------------------------------------------------------------- lesson 03: returns
    Mistake("03", "discounted_returns", "does not stop at a terminal step (bootstraps through it)",
            "tail = np.where(term[t], 0.0, np.where(cut, boot[t], future))",
            "tail = np.where(cut, boot[t], future)",
            "test_reward_to_go_hand_computed", "after a termination nothing is added"),
    Mistake("03", "discounted_returns", "discounts the current reward too, gamma (r_t + G_{t+1})",
            "future = r[t] + gamma * tail", "future = gamma * (r[t] + tail)",
            "test_reward_to_go_hand_computed", "discount the current reward too"),
    Mistake("03", "discounted_returns", "never bootstraps the last step of the window (off by one)",
            "cut = trunc[t] | (t == T - 1)", "cut = trunc[t] | (t == T)",
            "test_reward_to_go_hand_computed", "at the end of the window the return bootstraps from next_values"),
    Mistake("03", "gae", "bootstraps from the value of a terminal state",
            "delta = r + gamma * (~term) * v_next - v", "delta = r + gamma * v_next - v",
            "test_gae_hand_computed", "bootstrap from V(s') after a termination"),
    Mistake("03", "gae", "carries advantages across a truncation (uses terminated, not done)",
            "carry = gamma * lam * (~done)", "carry = gamma * lam * (~term)",
            "test_gae_hand_computed", "A must not carry over the episode boundary"),
    Mistake("03", "gae", "forgets lambda in the carry",
            "carry = gamma * lam * (~done)", "carry = gamma * (~done)",
            "test_gae_hand_computed", "forget lambda"),
    Mistake("03", "gae", "a sign slip in the TD error, V(s) - r - gamma V(s')",
            "delta = r + gamma * (~term) * v_next - v", "delta = v - r - gamma * (~term) * v_next",
            "test_gae_hand_computed", "Your values have the wrong sign"),
    Mistake("03", "policy_gradient_weights", "swaps reward-to-go and the whole return",
            "psi = [g if reward_to_go else np.full(len(g), g[0]) for g in returns]",
            "psi = [np.full(len(g), g[0]) if reward_to_go else g for g in returns]",
            "test_baselines_hand_computed", "swap reward_to_go"),
    Mistake("03", "policy_gradient_weights", "leave-one-out divides by E (counts the episode itself)",
            "others = (table.sum(axis=0, keepdims=True) - table) / (E - 1)",
            "others = (table.sum(axis=0, keepdims=True) - table) / E",
            "test_baselines_hand_computed", "divide by E, counting episode i among the others"),
    Mistake("03", "policy_gradient_weights", "the mean baseline per episode instead of over the batch",
            "b = np.concatenate(psi).mean()\n        return [p - b for p in psi]",
            "return [p - p.mean() for p in psi]",
            "test_baselines_hand_computed", "subtract each episode's own mean"),
    # ---------------------------------------------------------------- lesson 04: PPO's loss
    Mistake("04", "clipped_surrogate", "forgets the minus sign (a loss to minimise)",
            "return -minimum(unclipped, clipped).mean(axis=-1)", "return minimum(unclipped, clipped).mean(axis=-1)",
            "test_clipped_surrogate_value", "a missing minus sign (it is a loss to minimise)"),
    Mistake("04", "clipped_surrogate", "inverts the ratio, pi_old / pi_new",
            "ratio = (logp_new - logp_old).exp()", "ratio = (logp_old - logp_new).exp()",
            "test_clipped_surrogate_value", "invert the ratio"),
    Mistake("04", "clipped_surrogate", "takes the maximum of the two terms instead of the minimum",
            "return -minimum(unclipped, clipped).mean(axis=-1)", "return -maximum(unclipped, clipped).mean(axis=-1)",
            "test_clipped_surrogate_value", "PPO takes the MINIMUM"),
    Mistake("04", "value_loss", "forgets the 1/2",
            "        return 0.5 * err.mean(axis=-1)", "        return err.mean(axis=-1)",
            "test_value_loss_plain_and_clipped", "did you forget the 1/2?"),
    Mistake("04", "value_loss", "clips around the returns instead of the old values",
            "v_clipped = (v_new - v_old).clip(-clip_coef, clip_coef) + v_old",
            "v_clipped = (v_new - returns).clip(-clip_coef, clip_coef) + returns",
            "test_value_loss_plain_and_clipped", "clip around the returns"),
    Mistake("04", "value_loss", "takes the minimum of the two errors instead of the maximum",
            "return 0.5 * maximum(err, err_clipped).mean(axis=-1)", "return 0.5 * minimum(err, err_clipped).mean(axis=-1)",
            "test_value_loss_plain_and_clipped", "the clipped loss takes the MAXIMUM"),
    Mistake("04", "approx_kl", "a sign slip in k1, mean(log r)",
            "k1 = np.mean(-log_ratio, axis=-1)", "k1 = np.mean(log_ratio, axis=-1)",
            "test_approx_kl_k1_and_k3", "Your values have the wrong sign"),
    Mistake("04", "approx_kl", "k3 without the -1, mean(r - log r)",
            "k3 = np.mean(np.expm1(log_ratio) - log_ratio, axis=-1)", "k3 = np.mean(np.exp(log_ratio) - log_ratio, axis=-1)",
            "test_approx_kl_k1_and_k3", "drop the -1"),
    Mistake("04", "approx_kl", "k3 with the ratio inverted, r = pi_old / pi_new",
            "k3 = np.mean(np.expm1(log_ratio) - log_ratio, axis=-1)", "k3 = np.mean(np.expm1(-log_ratio) + log_ratio, axis=-1)",
            "test_approx_kl_k1_and_k3", "invert the ratio: r = pi_new / pi_old"),
    Mistake("04", "clip_fraction", "compares the ratio, not its distance from 1",
            "np.abs(ratio - 1.0) > clip_coef", "np.abs(ratio) > clip_coef",
            "test_clip_fraction", "the distance from 1, |r - 1| > eps"),
    Mistake("04", "clip_fraction", "counts only the upper side (no absolute value)",
            "np.abs(ratio - 1.0) > clip_coef", "(ratio - 1.0) > clip_coef",
            "test_clip_fraction", "take the absolute value |r - 1|"),
    Mistake("04", "clip_fraction", "counts instead of averaging",
            "frac = np.mean(np.abs(ratio - 1.0) > clip_coef, axis=-1)", "frac = np.sum(np.abs(ratio - 1.0) > clip_coef, axis=-1)",
            "test_clip_fraction", "the fraction is their MEAN over the batch"),
    Mistake("04", "explained_variance", "forgets the 1 -",
            "return float(1.0 - np.var(y_true - y_pred) / var_y)", "return float(np.var(y_true - y_pred) / var_y)",
            "test_explained_variance", "drop the 1 -"),
    Mistake("04", "explained_variance", "divides by the variance of the predictions",
            "return float(1.0 - np.var(y_true - y_pred) / var_y)", "return float(1.0 - np.var(y_true - y_pred) / np.var(y_pred))",
            "test_explained_variance", "divide by Var(y_pred)"),
    Mistake("04", "explained_variance", "the ratio of variances, Var[y_pred] / Var[y]",
            "return float(1.0 - np.var(y_true - y_pred) / var_y)", "return float(np.var(y_pred) / var_y)",
            "test_explained_variance", "take Var(y_pred) / Var(y_true)"),
    # ---------------------------------------------------------------- lesson 05: estimators
    Mistake("05", "score_function_surrogate", "sums over the samples instead of averaging",
            "return (log_prob * (rewards - b)).mean(axis=-1)", "return (log_prob * (rewards - b)).sum(axis=-1)",
            "test_score_function_no_baseline_hand_computed", "the MEAN over samples of log_prob * reward (not the sum)"),
    Mistake("05", "score_function_surrogate", "a sign slip, (b - f) log p",
            "return (log_prob * (rewards - b)).mean(axis=-1)", "return (log_prob * (b - rewards)).mean(axis=-1)",
            "test_score_function_no_baseline_hand_computed", "Your values have the wrong sign"),
    Mistake("05", "score_function_surrogate", "leave-one-out divides by N (counts the sample itself)",
            "b = (rewards.sum(axis=-1, keepdims=True) - rewards) / (n - 1)",
            "b = (rewards.sum(axis=-1, keepdims=True) - rewards) / n",
            "test_score_function_leave_one_out_hand_computed", "divide by N - 1 (the number of OTHER samples)"),
    Mistake("05", "score_function_surrogate", "leave-one-out sums over every batch (no axis)",
            "b = (rewards.sum(axis=-1, keepdims=True) - rewards) / (n - 1)",
            "b = (rewards.sum(keepdims=True) - rewards) / (n - 1)",
            "test_score_function_surrogate_is_per_batch", "reduce over the LAST axis only"),
    Mistake("05", "reparameterise", "uses log_std as the standard deviation",
            "return mean + log_std.exp() * eps", "return mean + log_std * eps",
            "test_estimators_are_unbiased_or_biased_as_predicted", "did you use log_std as the std?"),
    Mistake("05", "reparameterise", "cuts the graph (computes the std on .data)",
            "return mean + log_std.exp() * eps", "return mean + Tensor(np.exp(log_std.data)) * eps",
            "test_reparameterise_and_pathwise_gradient_hand_computed", "no gradient reached log_std"),
    Mistake("05", "reparameterise", "reads log_std as a log-variance, exp(log_std / 2)",
            "return mean + log_std.exp() * eps", "return mean + (log_std * 0.5).exp() * eps",
            "test_reparameterise_and_pathwise_gradient_hand_computed", "read log_std as a log-variance"),
    Mistake("05", "exact_categorical_gradient", "p * v (ignores that raising one logit lowers the others)",
            "expected = (theta.softmax(axis=-1) * values).sum()                    # sum_k p_k f(e_k)\n"
            "    expected.backward()\n    return theta.grad",
            "return theta.softmax(axis=-1).data * values",
            "test_exact_categorical_gradient_hand_computed", "you got p * v"),
    Mistake("05", "exact_categorical_gradient", "a sign slip (the gradient of -E f)",
            "expected.backward()", "(-expected).backward()",
            "test_exact_categorical_gradient_hand_computed", "Your values have the wrong sign"),
    Mistake("05", "exact_categorical_gradient", "weights f by log-probabilities (log_softmax)",
            "expected = (theta.softmax(axis=-1) * values).sum()", "expected = (theta.log_softmax(axis=-1) * values).sum()",
            "test_exact_categorical_gradient_hand_computed", "weight f by log-probabilities"),
    Mistake("05", "exact_categorical_gradient", "averages over the categories instead of summing",
            "expected = (theta.softmax(axis=-1) * values).sum()", "expected = (theta.softmax(axis=-1) * values).mean()",
            "test_exact_categorical_gradient_hand_computed", "average over the categories"),
    # ---------------------------------------------------------------- lesson 06: pathwise
    Mistake("06", "window_loss", "returns the return, not minus it (a sign slip)",
            "return -total.sum() * (1.0 / (B * T))", "return total.sum(axis=-1) * (1.0 / (B * T))",
            "test_window_loss_without_bootstrap", "the loss is MINUS the return"),
    Mistake("06", "window_loss", "counts rewards after the rollout ended (ignores alive)",
            "total = (rewards * (discounts * alive)).sum(axis=0)", "total = (rewards * discounts).sum(axis=0)",
            "test_window_loss_without_bootstrap", "counted a reward after its rollout ended"),
    Mistake("06", "window_loss", "discounts the bootstrap by gamma^(T-1) (off by one)",
            "total = total + (gamma ** T) * bootstrap", "total = total + (gamma ** (T - 1)) * bootstrap",
            "test_window_loss_bootstrap_and_gradient", "discount the bootstrap by gamma**(T - 1)"),
    Mistake("06", "lambda_returns", "starts from V(s_{T-1}) instead of V(s_T) (off by one)",
            "following = values[T] ", "following = values[T - 1] ",
            "test_lambda_returns_hand_computed", "the last target bootstraps from V(s_T)"),
    Mistake("06", "lambda_returns", "swaps lam and 1 - lam",
            "nxt = (1 - lam) * values[t + 1] + lam * following", "nxt = lam * values[t + 1] + (1 - lam) * following",
            "test_lambda_returns_hand_computed", "swap lam and 1 - lam"),
    Mistake("06", "lambda_returns", "masks with alive[t] instead of alive[t + 1] (off by one)",
            "targets[t] = rewards[t] + gamma * alive[t + 1] * nxt", "targets[t] = rewards[t] + gamma * alive[t] * nxt",
            "test_lambda_returns_hand_computed", "use alive[t] (off by one)"),
    Mistake("06", "rollout_window", "tests termination before stepping (the mask one step late)",
            "state, reward = twin.step(state, action)                             # (B, S), (B,)\n"
            "        rewards.append(reward)\n        masks.append(masks[-1] * ~twin.terminated(state))",
            "masks.append(masks[-1] * ~twin.terminated(state))\n"
            "        state, reward = twin.step(state, action)\n        rewards.append(reward)",
            "test_rollout_window_keeps_the_graph_and_stops_at_the_cliff",
            "alive[t + 1] = alive[t] * (not terminated(s_{t+1}))"),
    Mistake("06", "rollout_window", "cuts the graph (the action as a plain array)",
            "action = _act(policy, twin.observe(state), twin, config, rng)",
            "action = Tensor(_act(policy, twin.observe(state), twin, config, rng).data)",
            "test_rollout_window_keeps_the_graph_and_stops_at_the_cliff", "the rewards carry no graph"),
    Mistake("06", "rollout_window", "forgets to keep the states",
            "        states.append(state)\n        # END", "        # END",
            "test_rollout_window_keeps_the_graph_and_stops_at_the_cliff", "states should hold s_0 .. s_3"),
    # ---------------------------------------------------------------- lesson 07: learned models
    Mistake("07", "dynamics_loss", "sums the squared errors instead of averaging",
            "(B, D)\n    return (err * err).mean(axis=(-2, -1))", "(B, D)\n    return (err * err).sum(axis=(-2, -1))",
            "test_dynamics_loss_is_the_mean_squared_error", "you summed instead of averaging"),
    Mistake("07", "dynamics_loss", "averages over the batch only (sums the features)",
            "(B, D)\n    return (err * err).mean(axis=(-2, -1))", "(B, D)\n    return (err * err).sum(axis=-1).mean(axis=-1)",
            "test_dynamics_loss_is_the_mean_squared_error", "average over the features too"),
    Mistake("07", "dynamics_loss", "the mean absolute error instead of the squared",
            "(B, D)\n    return (err * err).mean(axis=(-2, -1))", "(B, D)\n    return ((err * err) ** 0.5).mean(axis=(-2, -1))",
            "test_dynamics_loss_is_the_mean_squared_error", "the mean ABSOLUTE error"),
    Mistake("07", "bradley_terry_loss", "a sign slip in the margin, d = score_b - score_a",
            "d = score_a - score_b ", "d = score_b - score_a ",
            "test_bradley_terry_loss_soft_labels_and_large_margins", "your loss rewards the wrong side"),
    Mistake("07", "bradley_terry_loss", "swaps the labels (y for B preferred)",
            "return (y * (-d).softplus() + (1.0 - y) * d.softplus()).mean()",
            "return ((1.0 - y) * (-d).softplus() + y * d.softplus()).mean()",
            "test_bradley_terry_loss_soft_labels_and_large_margins", "your loss rewards the wrong side"),
    Mistake("07", "bradley_terry_loss", "sums over the pairs instead of averaging",
            "return (y * (-d).softplus() + (1.0 - y) * d.softplus()).mean()",
            "return (y * (-d).softplus() + (1.0 - y) * d.softplus()).sum()",
            "test_bradley_terry_loss_hand_values", "average over the pairs, do not sum"),
    Mistake("07", "imagined_return", "discounts from gamma^1 (off by one)",
            "total = total + (gamma ** t) * reward(obs, act)", "total = total + (gamma ** (t + 1)) * reward(obs, act)",
            "test_imagined_return_hand_value", "the first reward (t = 0) is not discounted"),
    Mistake("07", "imagined_return", "feeds the pre-squash action u to the model",
            "total = total + (gamma ** t) * reward(obs, act)         # (B,)\n        obs = dynamics(obs, act)",
            "total = total + (gamma ** t) * reward(obs, u)         # (B,)\n        obs = dynamics(obs, u)",
            "test_imagined_return_uses_the_policy_and_the_dynamics", "squash the action with squash_action(u, action_scale)"),
    Mistake("07", "imagined_return", "sums over the start states instead of averaging",
            "    return total.mean(axis=-1)\n    # END", "    return total.sum(axis=-1)\n    # END",
            "test_imagined_return_hand_value", "average over the start states, do not sum"),
    # ---------------------------------------------------------------- lesson 08: RLHF
    Mistake("08", "kl_penalised_rewards", "a sign slip in the KL penalty, +beta log(pi / pi_ref)",
            "rewards = -kl_coef * (logp - ref_logp)", "rewards = kl_coef * (logp - ref_logp)",
            "test_kl_penalised_rewards_hand_computed", "flip the sign of the KL penalty"),
    Mistake("08", "kl_penalised_rewards", "gives the score to the first token (off by a whole sequence)",
            "rewards[:, -1] += score", "rewards[:, 0] += score",
            "test_kl_penalised_rewards_hand_computed", "the score goes on the LAST token only"),
    Mistake("08", "kl_penalised_rewards", "gives the score to every token",
            "rewards[:, -1] += score", "rewards += score[:, None]",
            "test_kl_penalised_rewards_hand_computed", "not on every token"),
    Mistake("08", "rloo_advantages", "divides by k (counts the sample itself)",
            "baseline = (R.sum(axis=1, keepdims=True) - R) / (k - 1)", "baseline = (R.sum(axis=1, keepdims=True) - R) / k",
            "test_rloo_advantages_hand_computed", "divide by k: the sum of the OTHER returns is divided by k - 1"),
    Mistake("08", "rloo_advantages", "the mean of the group as the baseline (includes the sample)",
            "baseline = (R.sum(axis=1, keepdims=True) - R) / (k - 1)", "baseline = R.mean(axis=1, keepdims=True)",
            "test_rloo_advantages_hand_computed", "not the mean of all k"),
    Mistake("08", "rloo_advantages", "groups the wrong axis (strided instead of consecutive samples)",
            "R = returns.reshape(-1, k)", "R = returns.reshape(k, -1).T",
            "test_rloo_advantages_hand_computed", "group the wrong samples"),
    # ---------------------------------------------------------------- lesson 09: DPO
    Mistake("09", "dpo_loss", "a sign slip, softplus(+beta h)",
            "return (-beta * h).softplus().mean()", "return (beta * h).softplus().mean()",
            "test_dpo_loss_hand_computed", "the sign of h flipped"),
    Mistake("09", "dpo_loss", "forgets the reference model",
            "h = (logp_chosen - ref_logp_chosen) - (logp_rejected - ref_logp_rejected)",
            "h = logp_chosen - logp_rejected",
            "test_dpo_loss_hand_computed", "leave out the reference model"),
    Mistake("09", "dpo_loss", "IPO's target 1/beta instead of 1/(2 beta)",
            "return ((h - 1.0 / (2.0 * beta)) ** 2).mean()", "return ((h - 1.0 / beta) ** 2).mean()",
            "test_ipo_loss_hand_computed", "the IPO target is 1 / (2 tau)"),
    # ---------------------------------------------------------------- lesson 10: best-of-N
    Mistake("10", "best_of_n_log_probs", "returns probabilities, not log-probabilities (units)",
            "out[x] = logp_ref[x] - np.log(mass[group]) + log_win[group]",
            "out[x] = np.exp(logp_ref[x] - np.log(mass[group]) + log_win[group])",
            "test_best_of_2_hand_computed", "return probabilities: the function returns LOG-probabilities"),
    Mistake("10", "best_of_n_log_probs", "raises the CDF to the power N - 1 (off by one)",
            "log_win = n * log_upper + np.log(-np.expm1(n * (log_lower - log_upper)))",
            "log_win = (n - 1) * log_upper + np.log(-np.expm1((n - 1) * (log_lower - log_upper)))",
            "test_best_of_n_matches_brute_force", "raise the CDF to the power N - 1"),
    Mistake("10", "best_of_n_log_probs", "subtracts the powers directly, log(F^N - F_-^N) (underflows for large N)",
            "log_win = n * log_upper + np.log(-np.expm1(n * (log_lower - log_upper)))",
            "log_win = np.log(upper ** n - lower ** n)",
            "test_best_of_n_stays_accurate_for_huge_n", "F^N underflows to 0 for large N"),
    Mistake("10", "best_of_n_log_probs", "splits a tied group equally instead of in proportion to pi_ref",
            "out[x] = logp_ref[x] - np.log(mass[group]) + log_win[group]",
            "out[x] = -np.log(np.bincount(group)[group]) + log_win[group]",
            "test_best_of_2_hand_computed", "split a tied group equally"),
    # ---------------------------------------------------------------- lesson 11: driving (pair_accuracy, accuracy_by_crash)
    Mistake("11", "pair_accuracy", "counts disagreements",
            "(model == truth).astype(np.float64)", "(model != truth).astype(np.float64)",
            "test_pair_accuracy_counts_agreements", "you counted disagreements"),
    Mistake("11", "pair_accuracy", "counts a tie as a disagreement (0)",
            "agree = np.where((model == 0) | (truth == 0), 0.5,", "agree = np.where((model == 0) | (truth == 0), 0.0,",
            "test_pair_accuracy_ties_count_half", "a tie (model or truth) counts 1/2, not 0"),
    Mistake("11", "pair_accuracy", "counts a tie as an agreement (1)",
            "agree = np.where((model == 0) | (truth == 0), 0.5,", "agree = np.where((model == 0) | (truth == 0), 1.0,",
            "test_pair_accuracy_ties_count_half", "a tie counts 1/2, not 1"),
    Mistake("11", "accuracy_by_crash", "a crash pair needs a crash on both sides (and for or)",
            "crash = crash_a | crash_b ", "crash = crash_a & crash_b ",
            "test_accuracy_by_crash_splits_the_pairs", "no crash in A and none in B"),
    Mistake("11", "accuracy_by_crash", "looks only at segment A's crashes",
            "crash = crash_a | crash_b ", "crash = crash_a ",
            "test_accuracy_by_crash_splits_the_pairs", "no crash in A and none in B"),
    Mistake("11", "accuracy_by_crash", "swaps the crash and no-crash subsets",
            '"no_crash": pair_accuracy(*(x[~crash] for x in args)),\n           "crash": pair_accuracy(*(x[crash] for x in args))',
            '"no_crash": pair_accuracy(*(x[crash] for x in args)),\n           "crash": pair_accuracy(*(x[~crash] for x in args))',
            "test_accuracy_by_crash_splits_the_pairs", "no crash in A and none in B"),
    Mistake("11", "segment_sums", "returns the first step of each segment, values[starts]",
            "return values[steps].sum(axis=starts.ndim)", "return values[starts]",
            "test_segment_sums_hand_computed", "you returned values[starts]"),
    Mistake("11", "segment_sums", "takes L + 1 steps per segment (off by one)",
            "steps = segment_steps(starts, length)", "steps = segment_steps(starts, length + 1)",
            "test_segment_sums_hand_computed", "L steps, starts[..., None] + np.arange(length)"),
    Mistake("11", "segment_sums", "sums over the last axis: the D numbers of a step, not the L steps",
            "return values[steps].sum(axis=starts.ndim)", "return values[steps].sum(axis=-1)",
            "test_segment_sums_of_per_step_vectors", "you summed over the last axis (the D numbers of a step)"),
    # ---------------------------------------------------------------- lesson 12: SAC
    Mistake("12", "squashed_log_prob", "adds the tanh correction instead of subtracting it",
            "return normal_log_prob - correction", "return normal_log_prob + correction",
            "test_squashed_log_prob_values", "SUBTRACT the log-Jacobian"),
    Mistake("12", "squashed_log_prob", "forgets the action scale in the correction (units)",
            "correction = log_one_minus_tanh_sq(u).sum(axis=-1) + log_scale",
            "correction = log_one_minus_tanh_sq(u).sum(axis=-1)",
            "test_squashed_log_prob_values", "the Jacobian term is log c + log(1 - tanh^2)"),
    Mistake("12", "squashed_log_prob", "sums the correction over the whole batch",
            "correction = log_one_minus_tanh_sq(u).sum(axis=-1) + log_scale",
            "correction = log_one_minus_tanh_sq(u).sum() + log_scale",
            "test_squashed_log_prob_is_finite_where_tanh_saturates", "sum the correction over the whole batch"),
    Mistake("12", "soft_bellman_target", "the max of the two critics instead of the min",
            "soft_value = next_q.min(axis=-2)", "soft_value = next_q.max(axis=-2)",
            "test_soft_bellman_target_values", "max instead of min over the critics"),
    Mistake("12", "soft_bellman_target", "a sign slip in the entropy term, + alpha log pi",
            "- alpha * next_log_prob", "+ alpha * next_log_prob",
            "test_soft_bellman_target_values", "check the sign of the entropy term"),
    Mistake("12", "soft_bellman_target", "bootstraps through the end of an episode",
            "return r + gamma * not_done * soft_value", "return r + gamma * soft_value",
            "test_soft_bellman_target_values", "forgot (1 - terminated)"),
    Mistake("12", "critic_loss", "forgets the 1/2",
            "return 0.5 * (q - y).square().mean(axis=-1).sum(axis=-1)", "return (q - y).square().mean(axis=-1).sum(axis=-1)",
            "test_critic_loss_value_and_gradient", "Your values are exactly twice the expected ones"),
    Mistake("12", "critic_loss", "averages over the critics instead of summing",
            "return 0.5 * (q - y).square().mean(axis=-1).sum(axis=-1)", "return 0.5 * (q - y).square().mean(axis=-1).mean(axis=-1)",
            "test_critic_loss_value_and_gradient", "sum over critics"),
    Mistake("12", "critic_loss", "regresses the critics' average on y",
            "return 0.5 * (q - y).square().mean(axis=-1).sum(axis=-1)", "return 0.5 * (q.mean(axis=-2) - y).square().mean(axis=-1)",
            "test_critic_loss_value_and_gradient", "average the critics before regressing"),
    Mistake("12", "actor_loss", "the max of the two critics instead of the min",
            "return (alpha * log_prob - q_pi.min(axis=-2)).mean(axis=-1)", "return (alpha * log_prob - q_pi.max(axis=-2)).mean(axis=-1)",
            "test_actor_loss_value_and_gradient", "take the max over the critics"),
    Mistake("12", "actor_loss", "a sign slip, Q - alpha log pi (maximises instead of minimising)",
            "return (alpha * log_prob - q_pi.min(axis=-2)).mean(axis=-1)", "return (q_pi.min(axis=-2) - alpha * log_prob).mean(axis=-1)",
            "test_actor_loss_value_and_gradient", "Your values have the wrong sign"),
    Mistake("12", "actor_loss", "the mean of the two critics instead of the min",
            "return (alpha * log_prob - q_pi.min(axis=-2)).mean(axis=-1)", "return (alpha * log_prob - q_pi.mean(axis=-2)).mean(axis=-1)",
            "test_actor_loss_value_and_gradient", "average the critics: the actor uses their MINIMUM"),
    Mistake("12", "temperature_loss", "a sign slip (drops the minus)",
            "return -(log_alpha * np.mean(log_prob + target_entropy, axis=-1))",
            "return log_alpha * np.mean(log_prob + target_entropy, axis=-1)",
            "test_temperature_loss_value_gradient_and_direction", "Your values have the wrong sign"),
    Mistake("12", "temperature_loss", "differentiates alpha instead of log alpha (parameterisation)",
            "return -(log_alpha * np.mean(log_prob + target_entropy, axis=-1))",
            "return -(log_alpha.exp() * np.mean(log_prob + target_entropy, axis=-1))",
            "test_temperature_loss_value_gradient_and_direction", "multiply alpha, not log_alpha"),
    Mistake("12", "temperature_loss", "subtracts the target entropy instead of adding it",
            "np.mean(log_prob + target_entropy, axis=-1)", "np.mean(log_prob - target_entropy, axis=-1)",
            "test_temperature_loss_value_gradient_and_direction", "subtract the target entropy"),
    # ---------------------------------------------------------------- lesson 13: gradient SNR
    Mistake("13", "rollout", "uses log_std as the standard deviation (no exp)",
            "action = mean + policy.log_std.exp() * eps", "action = mean + policy.log_std * eps",
            "test_rollout_records_rewards_with_their_graph_and_the_log_probs_of_the_actions",
            "a = mean + exp(log_std) * eps"),
    Mistake("13", "rollout", "one noise draw per dimension, shared by the B rollouts (a shape slip)",
            "eps = rng.standard_normal(mean.shape)", "eps = rng.standard_normal(mean.shape[1:])",
            "test_rollout_records_rewards_with_their_graph_and_the_log_probs_of_the_actions",
            "eps = rng.standard_normal(mean.shape)"),
    Mistake("13", "rollout", "scores the action with its graph (log_prob(action), not a sample)",
            "log_prob(action.detach())", "log_prob(action)",
            "test_rollout_records_rewards_with_their_graph_and_the_log_probs_of_the_actions",
            "means the action kept its graph"),
    Mistake("13", "score_surrogate", "forgets the 1/B average",
            "return (log_probs * weights).sum() * (1.0 / B)", "return (log_probs * weights).sum()",
            "test_score_surrogate_value_and_gradient_by_hand", "forgot the 1/B average"),
    Mistake("13", "score_surrogate", "leaves out gamma^t",
            "weights = (gamma ** np.arange(T, dtype=np.float64))[:, None] * (to_go - baseline)",
            "weights = to_go - baseline",
            "test_score_surrogate_value_and_gradient_by_hand", "left out gamma^t"),
    Mistake("13", "score_surrogate", "the batch mean as baseline (the rollout itself included)",
            "baseline = (to_go.sum(axis=1, keepdims=True) - to_go) / (B - 1)",
            "baseline = to_go.mean(axis=1, keepdims=True)",
            "test_score_surrogate_value_and_gradient_by_hand", "used the batch mean as baseline"),
    Mistake("13", "gradient_snr", "forgets the S / R correction",
            "return float((mean @ mean - noise / R) / noise)", "return float((mean @ mean) / noise)",
            "test_gradient_snr_by_hand", "forgot to subtract S / R"),
    Mistake("13", "gradient_snr", "divides the squared deviations by R, not R - 1",
            "noise = ((g - mean) ** 2).sum() / (R - 1)", "noise = ((g - mean) ** 2).sum() / R",
            "test_gradient_snr_by_hand", "divided the squared deviations by R instead of R - 1"),
    Mistake("13", "gradient_snr", "the norm of the mean gradient, not its square",
            "return float((mean @ mean - noise / R) / noise)",
            "return float((np.sqrt(mean @ mean) - noise / R) / noise)",
            "test_gradient_snr_by_hand", "used the norm |gbar| instead of its square"),
)


# ------------------------------------------------------------------ applying a mistake

def _patched_source(mistake: Mistake) -> str:
    """The learner's file with the mistake: the reference module patched inside its solution block."""
    lesson = get_lesson(mistake.lesson)
    text = lesson.source.read_text(encoding="utf-8")
    count = text.count(mistake.old)
    assert count == 1, f"{mistake.function}: {mistake.old!r} occurs {count} times in minirl/{lesson.module}"
    at = text[:text.index(mistake.old)].count("\n")
    blocks = find_blocks(text)
    assert any(begin < at < end for begin, end, _ in blocks), (
        f"{mistake.function}: the patched text {mistake.old!r} is not inside a solution block (line {at + 1})")
    patched = text.replace(mistake.old, mistake.new)
    unmarked = "\n".join(l for l in patched.splitlines() if l.strip() not in (BEGIN, END)) + "\n"
    return make_stub(unmarked, lesson)          # imports made absolute, as in a learner's file


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _parametrisations(test) -> list[dict]:
    """Every combination of the test's @pytest.mark.parametrize arguments."""
    axes = []
    for mark in getattr(test, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names, values = mark.args[0], mark.args[1]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        rows = []
        for value in values:
            value = value.values if hasattr(value, "values") and hasattr(value, "marks") else value
            rows.append(dict(zip(names, value if len(names) > 1 else (value,))))
        axes.append(rows)
    return [dict(itertools.chain.from_iterable(d.items() for d in combo)) for combo in itertools.product(*axes)]


def _messages(mistake: Mistake, module) -> list[str]:
    """What the learner reads for each failing parametrisation of the mistake's test."""
    lesson = get_lesson(mistake.lesson)
    tests = importlib.import_module(next(EXERCISES.glob(f"test_lesson{lesson.number}_*.py")).stem)
    test = getattr(tests, mistake.test)
    out = []
    for kwargs in _parametrisations(test):
        try:
            test(lambda name: module, **kwargs)
        except (AssertionError, pytest.fail.Exception) as exc:
            out.append(str(exc))
        except Exception as exc:                 # what conftest's hook reports for it
            out.append(helpers.learner_error(exc))
    return out


@pytest.mark.parametrize("mistake", MISTAKES, ids=[f"{m.lesson}-{m.function}-{m.mistake[:40]}" for m in MISTAKES])
def test_each_common_mistake_gets_the_hint_that_names_it(mistake, tmp_path):
    path = tmp_path / Path(get_lesson(mistake.lesson).module).name
    path.write_text(_patched_source(mistake), encoding="utf-8")
    name = f"{helpers.LEARNER_MODULE_PREFIX}mistake_{mistake.lesson}"
    try:
        messages = _messages(mistake, _load(path, name))
    finally:
        sys.modules.pop(name, None)
    assert messages, f"{mistake.test} passes with the mistake '{mistake.mistake}' in {mistake.function}"
    assert any(mistake.hint in m for m in messages), (
        f"{mistake.test} fails on '{mistake.mistake}' in {mistake.function}, but no message says "
        f"{mistake.hint!r}; the learner reads:\n" + "\n---\n".join(dict.fromkeys(messages)))


# ------------------------------------------------------------------ the table in CONTRIBUTING.md

def table() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    rows = ["| lesson | function | mistake | caught by | the learner reads |", "|---|---|---|---|---|"]
    rows += [f"| {m.lesson} | `{m.function}` | {cell(m.mistake)} | `{m.test}` | \"{cell(m.hint)}\" |"
             for m in MISTAKES]
    return "\n".join(rows) + "\n"


def test_every_exercise_function_has_three_common_mistakes():
    """Issue 20: for each exercise function, the three most common mistakes, each reaching its hint."""
    from collections import Counter
    from minirl.exercises import LESSONS
    from minirl.exercises.stubs import exercise_functions, lesson_stub
    counts = Counter((m.lesson, m.function) for m in MISTAKES)
    functions = {(lesson.number, name) for lesson in LESSONS
                 for name in exercise_functions(lesson_stub(lesson) or "")}
    assert functions, "no exercise function found"
    missing = sorted(f"lesson {n}: {name} ({counts[n, name]})" for n, name in functions if counts[n, name] < 3)
    assert not missing, f"exercise functions with fewer than three mistakes in MISTAKES: {missing}"
    unknown = sorted(f"lesson {n}: {name}" for n, name in set(counts) - functions)
    assert not unknown, f"MISTAKES names functions that no lesson stub asks for: {unknown}"


def test_contributing_carries_the_table_of_mistakes():
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert table() in text, ("CONTRIBUTING.md's table of common mistakes differs from "
                             "tests/test_exercise_mistakes.py: run `python tests/test_exercise_mistakes.py` "
                             "and paste its output under 'Common mistakes and the hint each gets'")


if __name__ == "__main__":
    print(table(), end="")
