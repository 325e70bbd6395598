"""Causal tests of Chain-of-Steps, each composed only of interventions and scoring.

* :mod:`interp.causal.cka`: debiased linear CKA between two token sets, and a collector that
  measures it against a clean run while a perturbed run goes on;
* :mod:`interp.causal.erase`: erase units from the clean estimate x0_hat at a step and re-form
  x_t at the same noise level with the run's own noise; or project a direction out of tokens;
* :mod:`interp.causal.noise`: Gaussian noise at one step, at one frame, or both;
* :mod:`interp.causal.swap`: replace one layer's visual tokens with another run's;
* :mod:`interp.causal.pair_patch`: activation patching on any task's pairs (``cos patch``), its
  summary and effect maps;
* :mod:`interp.causal.input_arms`, :mod:`interp.causal.input_steps`: noise, erase, swap and per-step metrics on
  any model's inputs (prompts, prompt pairs, image pairs);
* :mod:`interp.causal.maze`: the old name of :mod:`interp.tasks.maze_answers` (maze glue: units <-> tokens,
  candidates, outcomes of a run), which lives with the maze task;
* :mod:`interp.causal.verdicts`: the maze experiments' verdict rules, read from their figures tables;
* :mod:`interp.causal.plots`: the maze experiments' figures, drawn from the same tables.
"""
