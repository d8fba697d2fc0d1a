"""`minirl driving`: what makes driving hard to model, next to the toy language where it is easy.

    minirl driving --out runs/driving                 # the experiment (about 5 min of CPU time, 2 processes)
    minirl driving --out runs/driving --fast          # a quick look (about 30 s of CPU time)
    minirl driving --out runs/driving --long          # adds PPO in the real env on three rewards
    minirl driving collect --out data.npz --steps 4000 --seed 0   # record new transitions ([driving] extra)
    minirl driving collect-comparisons --out comparisons.npz --starts 300 --candidates 16 --seed 40000

The data-only half reads the transitions shipped with minirl
(`minirl/experiments/driving/highway_fast_v0.npz`, or `--data FILE`) and needs only NumPy; the
real-env half (baselines, planners, the candidate pools, PPO) needs the [driving] extra and says so
in one line without it. Writes into --out one CSV per table (`minirl.experiments.driving.tables`),
the raw rows behind them, and the figures:

| file | what |
|---|---|
| policies.csv, policies.png | baselines and planner arms in the real env: crashes k/n with a Wilson interval, return |
| blame.csv, blame.png | best-of-N by (exact copy / learned world model) x (env reward / learned reward) |
| overopt.csv, overopt.png | the action-sequence reward's best-of-N curve beside the toy language's |
| rewards.csv, rewards.png | like-for-like reward models of both worlds: pair accuracy, crash pairs, R^2 |
| inputs.csv | regression R^2 on privileged features and observations; the formula's crash test |
| world_model.csv, world_model.png | world-model R^2 per component, constant velocity, switch rate |
| ppo.csv, ppo.png, ppo.json | (--long) PPO on the env's reward, the learned reward, a survival reward |
| episodes.csv, candidates.csv, reward_runs.csv, world_runs.csv, ppo_episodes.csv | the raw rows |
"""

from __future__ import annotations

import argparse
import csv
import time

from . import fail

HELP = "what makes driving hard to model: highway-env next to the toy language"
DESCRIPTION = ("Which inputs make the driving reward learnable; an outcome reward and an action-sequence reward "
               "learned from preferences beside the toy language's; what the world model's error is made of; "
               "baselines and one planner through exact and learned models in the real highway-fast-v0; who is "
               "to blame when best-of-N fails (dynamics x reward); the action-sequence reward's over-optimisation; "
               "with --long, PPO in the real env. `minirl driving collect` records new transitions "
               "(needs the [driving] extra).")


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="runs/driving", help="output directory for CSV and PNG files")
    parser.add_argument("--fast", action="store_true", help="one seed, tiny budgets (tests, a quick look)")
    parser.add_argument("--long", action="store_true",
                        help="add PPO in the real env on three rewards and the exact-copy planner with the "
                             "learned reward (9 PPO runs of 5,000 real steps each, on top of the default run)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes for the real-env tasks (default: 2 on a machine with 2 or more cores)")
    parser.add_argument("--data", default=None, help="transitions to use (default: the shipped data set)")
    parser.add_argument("--no-eval", action="store_true", help="skip everything that needs the real env")
    sub = parser.add_subparsers(dest="driving_command", metavar="{collect,collect-comparisons}")
    p = sub.add_parser("collect", help="record highway-fast-v0 transitions (needs the [driving] extra)",
                       description="Record transitions of highway-fast-v0 with the seeded behaviour policy "
                                   "(careful driver mixed with random actions) into an .npz file.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", dest="collect_out", metavar="FILE", required=True, help="the .npz file to write")
    p.add_argument("--steps", type=int, default=4000, help="at least this many transitions (whole episodes)")
    p.add_argument("--seed", type=int, default=0, help="collection seed (episode e is seeded by [seed, e])")
    p = sub.add_parser("collect-comparisons", help="record same-state comparisons of action sequences ([driving] extra)",
                       description="From real start states, roll random action sequences in exact copies of "
                                   "highway-fast-v0 and record what each paid: the comparisons a language-style "
                                   "reward model of driving is trained on.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", dest="collect_out", metavar="FILE", required=True, help="the .npz file to write")
    p.add_argument("--starts", type=int, default=300, help="start states")
    p.add_argument("--candidates", type=int, default=16, help="random 5-step action sequences per start")
    p.add_argument("--seed", type=int, default=40000, help="start k and its sequences are seeded by [seed, k]")
    p.add_argument("--workers", type=int, default=None, help="processes (default: 2 on 2 or more cores)")


def run(args) -> int:
    from ..outputs import OutputPathError, check_out_dir, check_out_file

    command = getattr(args, "driving_command", None)
    try:
        out = check_out_file(args.collect_out, suffix=".npz") if command else check_out_dir(args.out)
    except OutputPathError as exc:
        return fail("driving", exc)
    if command == "collect":
        return _collect(args, out)
    if command == "collect-comparisons":
        return _collect_comparisons(args, out)
    return _experiment(args, out)


def _collect(args, out) -> int:
    from ..experiments.driving.collect import collect, driving_extra_missing

    if args.steps < 1 or args.seed < 0:
        return fail("driving", f"--steps must be >= 1 and --seed >= 0, got --steps {args.steps} --seed {args.seed}")
    missing = driving_extra_missing()
    if missing:
        return fail("driving", missing)
    from tqdm import tqdm

    start = time.perf_counter()
    with tqdm(total=args.steps, desc="highway-fast-v0", unit="step", leave=False) as bar:
        data = collect(args.steps, args.seed, progress=lambda n: bar.update(min(n, args.steps) - bar.n))
    data.save(out)
    print(f"wrote {len(data)} transitions in {data.n_episodes} episodes ({int(data.crashed.sum())} crashes) "
          f"to {out} in {time.perf_counter() - start:.0f} s")
    return 0


def _collect_comparisons(args, out) -> int:
    from ..experiments.driving import comparisons
    from ..experiments.driving.collect import driving_extra_missing
    from ..experiments.driving.pool import default_workers

    if args.starts < 1 or args.candidates < 1 or args.seed < 0 or (args.workers is not None and args.workers < 1):
        return fail("driving", f"--starts, --candidates and --workers must be >= 1 and --seed >= 0, got --starts "
                               f"{args.starts} --candidates {args.candidates} --workers {args.workers} --seed {args.seed}")
    missing = driving_extra_missing()
    if missing:
        return fail("driving", missing)
    from tqdm import tqdm

    start = time.perf_counter()
    with tqdm(total=args.starts, desc="start states", unit="start", leave=False) as bar:
        found = comparisons.collect(args.starts, args.candidates, args.seed, workers=args.workers or default_workers(),
                                    progress=lambda n: bar.update(n - bar.n))
    comparisons.save(out, found)
    print(f"wrote {args.starts} start states x {args.candidates} action sequences ({found['crashed'].mean():.0%} crash) "
          f"to {out} in {time.perf_counter() - start:.0f} s")
    return 0


def _write_csv(path, rows) -> str:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{float(v):.6g}" if isinstance(v, float) or hasattr(v, "dtype") else v)
                             for k, v in r.items()})
    return path


def _ci(r, key, low="low", high="high", fmt=".2f") -> str:
    return f"{r[key]:{fmt}} [{r[low]:{fmt}}, {r[high]:{fmt}}]"


def _print_tables(tables: dict) -> None:
    """A compact view of every table (the CSV files hold all of it)."""
    say = print
    if "policies" in tables:
        say("\npolicies in the real env (crashes k/n [Wilson 95%]; return [bootstrap 95%]; speed m/s):")
        for r in tables["policies"]:
            pred = "" if r["predicted"] != r["predicted"] else f"  predicted {r['predicted']:.2f}"
            say(f"  {r['arm']:<40}{r['crashes']:>3}/{r['n']:<3}[{r['crash_low']:.2f}, {r['crash_high']:.2f}] "
                f"({r.get('hit_ahead', 0)} into a car ahead)  return {_ci(r, 'return', 'return_low', 'return_high')}  "
                f"speed {r['speed']:.1f}{pred}")
    if "blame" in tables:
        ns = sorted({r["N"] for r in tables["blame"]})
        shown = sorted({ns[0], *(n for n in ns if n == 16), ns[-1]})
        say(f"\nwho is to blame: best-of-N over random action sequences, paid by the real env "
            f"(crashes of the winner of {tables['blame'][0]['n']} starts [bootstrap 95%]):")
        for r in tables["blame"]:
            if r["N"] in shown:
                say(f"  N={r['N']:<3} {r['dynamics'] + ' + ' + r['score']:<40} paid "
                    f"{_ci(r, 'paid', 'paid_low', 'paid_high')}  crashes {_ci(r, 'crashes', 'crashes_low', 'crashes_high', '.1f')}"
                    f"  promised {r['promised']:.2f}")
    if "overopt" in tables:
        say("\nover-optimisation: gain in reference std against KL_BoN (driving: action-sequence reward):")
        for r in tables["overopt"]:
            extra = (f"  paid {_ci(r, 'paid', 'paid_low', 'paid_high')}  crashes "
                     f"{_ci(r, 'crashes', 'crashes_low', 'crashes_high', '.1f')}/{r['n']}  promised {r['promised']:.2f}"
                     if r["world"] == "driving" else "")
            say(f"  {r['world']:<13} N={r['N']:<3} KL {r['kl_bon']:.2f}  proxy {r['proxy_gain']:+.2f}  "
                f"paid/gold {r['paid_gain']:+.2f}{extra}")
    if "rewards" in tables:
        big = max(r["n_pairs"] for r in tables["rewards"])
        say(f"\nreward models from {big} judged pairs, like for like (world, reward, pairs it learned from, "
            "pairs it is scored on; mean over seeds [bootstrap 95%]):")
        for r in tables["rewards"]:
            if r["n_pairs"] == big:
                say(f"  {r['world']:<13}{r['reward']:<29}{r['trained_on']:<23}{r['scored_on']:<18}{r['metric']:<27}"
                    f"{_ci(r, 'mean', fmt='.3f')}")
    if "inputs" in tables:
        say("\nwhich inputs make the reward learnable (regression; range over seeds, Wilson for rates):")
        for r in tables["inputs"]:
            count = f" ({r['count']}/{r['n']})" if "count" in r else ""
            say(f"  {r['quantity']:<55}{r['value']:.3f} [{r['low']:.3f}, {r['high']:.3f}]{count}")
    if "world_model" in tables:
        say("\nworld model: one-step R^2 of the change of the other cars (x, y, vx, vy; mean over seeds):")
        rows = tables["world_model"]
        for g in dict.fromkeys((r["predictor"], r["target"], r["rows"]) for r in rows):
            if g[0] == "rows that switch car":
                r = next(r for r in rows if r["predictor"] == g[0])
                say(f"  other-car rows that switch car between two steps: {r['switched']}/{r['values']} = "
                    f"{r['switch_rate']:.3f} [{r['low']:.3f}, {r['high']:.3f}]")
                continue
            vals = [r["r2"] for r in rows if (r["predictor"], r["target"], r["rows"]) == g and r["car"] == "others"]
            say(f"  {g[0] + ' -> ' + g[1] + ', ' + g[2]:<48}" + "  ".join(f"{v:6.3f}" for v in vals))
    if "ppo" in tables:
        say("\nPPO in the real env (crashes of all evaluation episodes [Wilson 95%], per seed; speed; return):")
        for r in tables["ppo"]:
            say(f"  trained on the {r['arm']:<16}{r['crashes']:>3}/{r['n']:<3}[{r['crash_low']:.2f}, "
                f"{r['crash_high']:.2f}]  per seed {r['crashes_per_seed']}  speed {r['speed']:.1f}  "
                f"return {_ci(r, 'return', 'return_low', 'return_high')}")


def _experiment(args, out) -> int:
    import os
    import resource

    from ..experiments.driving import data as dd
    from ..experiments.driving.experiment import DrivingConfig, count_units, run_driving
    from ..experiments.driving.tables import all_tables
    from ..plotting import driving as plots
    from ..plotting.curves import save_figure

    if args.workers is not None and args.workers < 1:
        return fail("driving", f"--workers must be >= 1, got {args.workers}")
    try:
        data = dd.load(args.data) if args.data else dd.load_shipped()
    except (OSError, ValueError) as exc:
        return fail("driving", exc)
    config = DrivingConfig.fast(long=args.long) if args.fast else DrivingConfig(long=args.long)
    from tqdm import tqdm

    start = time.perf_counter()
    with tqdm(total=count_units(config, not args.no_eval), desc="minirl driving", unit="task", leave=False) as bar:
        def tick(label):
            bar.set_postfix_str(label)
            bar.update(1)
        result = run_driving(data, config, evaluate=not args.no_eval, workers=args.workers, progress=tick)
    if result.skipped and not args.no_eval:
        print(f"skipped everything that needs the real env: {result.skipped}")
    tables = all_tables(result, config)
    path = lambda name: os.path.join(out, name)                                  # noqa: E731
    written = [_write_csv(path(f"{name}.csv"), rows) for name, rows in tables.items()]
    raw = {"episodes.csv": result.episode_rows, "reward_runs.csv": result.reward_rows,
           "world_runs.csv": result.world_rows + result.switch_rows, "ppo_episodes.csv": result.ppo_rows,
           "candidates.csv": _candidate_rows(result)}
    written += [_write_csv(path(name), rows) for name, rows in raw.items() if rows]
    figures = {"policies": plots.policies_figure, "blame": plots.blame_figure, "overopt": plots.overopt_figure,
               "rewards": plots.rewards_figure, "world_model": plots.world_model_figure, "ppo": plots.ppo_figure}
    written += [save_figure(draw(tables[name]), path(f"{name}.png")) for name, draw in figures.items()
                if name in tables]
    if "ppo" in tables:
        written.append(_write_ppo_json(path("ppo.json"), tables["ppo"], result.ppo_rows, args))
    print(f"{result.n_transitions} transitions in {result.n_episodes} episodes, seeds {list(config.seeds)}")
    _print_tables(tables)
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    print(f"\ndone in {time.perf_counter() - start:.0f} s ({cpu:.0f} s of CPU time); wrote {len(written)} files to {out}")
    return 0


def _write_ppo_json(path, table, episodes, args) -> str:
    """The PPO table and its episodes, with the command that made them (what `MEASURED_PPO` ships)."""
    import datetime
    import json

    from .. import __version__

    command = "minirl driving --long" + (" --fast" if args.fast else "") + f" --out {args.out}"
    record = {"command": command, "minirl": __version__, "date": datetime.date.today().isoformat(),
              "train_steps": table[0]["train_steps"], "table": table, "episodes": episodes}
    with open(path, "w") as fh:
        json.dump(record, fh, indent=1, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    return path


def _candidate_rows(result) -> list[dict]:
    """One row per candidate of every pool: its start, actions, outcome and every selector's score."""
    rows = []
    for pool, scores in zip(result.pools, result.pool_scores or [{}] * len(result.pools)):
        for k in range(len(pool["paid"])):
            rows.append({"start": pool["start"], "seed": pool["seed"], "actions": "".join(map(str, pool["seqs"][k])),
                         "paid": float(pool["paid"][k]), "crashed": bool(pool["crashed"][k]),
                         "steps": int(pool["steps"][k]), **{name: float(v[k]) for name, v in scores.items()}})
    return rows
