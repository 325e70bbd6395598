"""Command-line options for pairs of inputs to any model (prompts or first frames) and its metric."""

from __future__ import annotations


def add_pair_options(parser, *, singles: bool = False) -> None:
    """Options that make a causal command run a user's input pairs on any supported model."""
    group = parser.add_argument_group("input pairs for any model (a diffusers folder in --model)")
    if singles:
        group.add_argument("--prompts", metavar="FILE", default=None,
                           help="JSON list of prompts: single inputs, no corrupted partners")
    group.add_argument("--prompt-pairs", metavar="FILE", default=None,
                       help='JSON list of {"clean": PROMPT, "corrupt": PROMPT}')
    group.add_argument("--image-pairs", metavar="FILE", default=None,
                       help='JSON list of {"clean": IMAGE, "corrupt": IMAGE} (first frames; paths relative to FILE)')
    group.add_argument("--prompt", default=None, help="the prompt every run of --image-pairs shares")
    group.add_argument("--negative-prompt", default=None, help="negative prompt (with guidance)")
    group.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    group.add_argument("--true-cfg", type=float, default=None,
                       help="classifier-free guidance scale with --negative-prompt, for a family whose --guidance "
                            "is distilled into the transformer (HunyuanVideo: true_cfg_scale, a second call per step)")
    group.add_argument("--height", type=int, default=None, help="video height in pixels (default: the model's)")
    group.add_argument("--width", type=int, default=None, help="video width in pixels (default: the model's)")
    group.add_argument("--frames", type=int, default=None, help="video frames (default: the model's)")
    group.add_argument("--metric", default=None,
                       help="module:function scoring videos (default: distance to the clean and corrupted videos)")


def wants_pairs(args) -> bool:
    return bool(getattr(args, "prompt_pairs", None) or getattr(args, "image_pairs", None))


def wants_inputs(args) -> bool:
    """Whether the options name inputs of any model: pairs, a prompt list, or one ``--prompt``."""
    return wants_pairs(args) or bool(getattr(args, "prompts", None) or getattr(args, "prompt", None))


def task_from_args(args, regions: tuple[str, ...] = ("all",)):
    """The :class:`~interp.tasks.input_pairs.InputPairTask` the options describe."""
    from interp.errors import InputError
    from interp.tasks.input_pairs import InputPairTask
    from interp.tasks.interface import load_metric

    given = [o for o, v in (("--prompt-pairs", args.prompt_pairs), ("--image-pairs", args.image_pairs),
                            ("--prompts", getattr(args, "prompts", None))) if v]
    if len(given) > 1:
        raise InputError(f"give one of {', '.join(given)}, not several")
    shared = {key: value for key, value in (("height", args.height), ("width", args.width),
                                            ("num_frames", args.frames), ("guidance_scale", args.guidance),
                                            ("negative_prompt", args.negative_prompt),
                                            ("true_cfg_scale", getattr(args, "true_cfg", None))) if value is not None}
    if "true_cfg_scale" in shared and args.negative_prompt is None:
        raise InputError("--true-cfg needs --negative-prompt: its unconditional branch reads the negative prompt")
    options = {"shared": shared, "region_names": regions,
               "user_metric": load_metric(args.metric) if args.metric else None}
    if args.prompt_pairs:
        if args.prompt:
            raise InputError("--prompt goes with --image-pairs; --prompt-pairs gives each run its prompt")
        return InputPairTask.from_prompt_file(args.prompt_pairs, **options)
    if getattr(args, "prompts", None) or (args.prompt is not None and not args.image_pairs):
        if args.prompts and args.prompt:
            raise InputError("--prompt goes with --image-pairs; --prompts gives each run its prompt")
        if args.prompts:
            return InputPairTask.from_prompts_file(args.prompts, **options)
        return InputPairTask.from_prompt_list([args.prompt], **options)
    if args.prompt is not None:
        shared["prompt"] = args.prompt
    return InputPairTask.from_image_file(args.image_pairs, **options)
