"""`minirl eval DIR`: reload a trained run and measure its deterministic policy (any algorithm).

    minirl eval runs/ppo_cartpole_s0 --episodes 20
    minirl eval runs/ppo_cartpole_s0 --episodes 1 --render rgb_array --gif cartpole.gif

The agent is rebuilt from DIR/config.json and DIR/checkpoint.npz (observation-normaliser statistics
included), then plays `--episodes` episodes on a fresh environment, taking the most likely action
(`deterministic=True`). It prints the mean ± standard deviation of the episode returns. With
`--render rgb_array --gif PATH` the first episode's frames are saved as an animated GIF (written with
matplotlib's PillowWriter, `minirl.plotting.gif`; Pillow comes with matplotlib).
"""

from __future__ import annotations

HELP = "evaluate a trained run directory (optionally render a GIF)"
DESCRIPTION = "Reload a run folder and play deterministic episodes; print mean ± std return."


def add_arguments(parser) -> None:
    parser.add_argument("run_dir", metavar="DIR", help="a run folder written by `minirl train`")
    parser.add_argument("--episodes", type=int, default=10, help="episodes to play")
    parser.add_argument("--seed", type=int, default=12345,
                        help="seed of the evaluation environment (different from training by default)")
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of the mode")
    parser.add_argument("--render", choices=["rgb_array"], default=None, help="render frames of the first episode")
    parser.add_argument("--gif", default=None, metavar="PATH",
                        help="write the rendered frames as a GIF (.gif is added to a name without an ending)")
    parser.add_argument("--fps", type=int, default=30, help="frames per second of the GIF")
    parser.add_argument("--max-frames", type=int, default=500, help="at most this many frames in the GIF")
    from . import add_env_module_option
    add_env_module_option(parser)


def run(args) -> int:
    import gymnasium as gym

    from ..evaluation import play_episodes
    from ..plotting.gif import save_gif
    from ..runs.driver import RUN_ERRORS, load_run
    from . import allow_env_modules, fail

    refused = allow_env_modules("eval", args)
    if refused is not None:
        return refused
    if args.episodes <= 0:
        return fail("eval", f"--episodes must be positive, got {args.episodes}")
    if args.seed < 0:
        return fail("eval", f"--seed must be >= 0 (Gymnasium seeds are non-negative), got {args.seed}")
    if args.gif and not args.render:
        args.render = "rgb_array"
    if args.gif:                                     # every GIF setting is checked before an episode plays
        from ..outputs import OutputPathError, check_out_file
        for flag, value in (("--fps", args.fps), ("--max-frames", args.max_frames)):
            if value < 1:
                return fail("eval", f"{flag} must be a positive integer, got {value}",
                            "e.g. --fps 30 --max-frames 500")
        try:
            args.gif = check_out_file(args.gif, suffix=".gif", flag="--gif")
        except OutputPathError as exc:
            return fail("eval", exc)
        try:
            import PIL  # noqa: F401
        except ImportError:
            return fail("eval", "--gif needs Pillow (pip install pillow)")
    try:
        agent, info, ckpt = load_run(args.run_dir)
    except RUN_ERRORS as exc:
        return fail("eval", exc)
    except gym.error.Error as exc:                   # an env id this process cannot make
        return fail("eval", f"{args.run_dir} was trained on an environment this process cannot make: "
                            f"{type(exc).__name__}: {exc}", "install the package that registers it, or name "
                            "its module with --env-module")
    try:
        returns, lengths, frames = play_episodes(agent, info["env_id"], args.episodes, args.seed,
                                            deterministic=not args.stochastic, render=args.render,
                                            max_frames=args.max_frames)
    except gym.error.DependencyNotInstalled as exc:
        return fail("eval", f"rendering {info['env_id']} needs an extra package: {exc}")
    finally:
        agent.close()
    mode = "stochastic" if args.stochastic else "deterministic"
    print(f"{info['algo']} on {info['env_id']} (checkpoint at step {ckpt.step}), {args.episodes} "
          f"{mode} episode{'s' if args.episodes != 1 else ''}: return {returns.mean():.2f} ± {returns.std():.2f} "
          f"(min {returns.min():.1f}, max {returns.max():.1f}; mean length {lengths.mean():.1f})")
    if args.gif:
        try:
            save_gif(frames, args.gif, fps=args.fps)
        except OSError as exc:
            from . import write_failed
            return write_failed("eval", exc, args.gif)
        print(f"GIF of the first episode ({len(frames)} frames) written to {args.gif}")
    return 0
