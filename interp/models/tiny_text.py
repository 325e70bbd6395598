"""Tiny word-level tokenizers and random text encoders for the tiny pipelines, built offline.

A tiny pipeline carrying them takes prompts as text, so the command line (which reads prompts)
runs on its saved folder. The tokenizer knows :data:`TINY_WORDS` (any other word is ``<unk>``);
no vocabulary file or download is involved.

Example:
    >>> components = tiny_text_components("hunyuan-video")
    >>> sorted(components), type(components["text_encoder"]).__name__
    (['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2'], 'LlamaModel')
"""

from __future__ import annotations

import torch

from interp.errors import check_choice

#: Entry of ``TINY_MODELS`` -> its text encoders: (pipeline component, class name in transformers,
#: width); the width is what the tiny transformer reads.
TEXT_ENCODERS = {
    **{name: (("text_encoder", "UMT5EncoderModel", 32),)
       for name in ("wan21-t2v", "wan21-i2v", "wan22-a14b", "wan22-ti2v-t2v", "wan22-ti2v-i2v")},
    **{name: (("text_encoder", "T5EncoderModel", 32),) for name in ("ltx", "cogvideox", "mochi")},
    # HunyuanVideo: a Llama decoder (hidden states of a layer near the end) and CLIP's pooled output
    "hunyuan-video": (("text_encoder", "LlamaModel", 16), ("text_encoder_2", "CLIPTextModel", 8)),
    # HunyuanVideo 1.5: Qwen2.5-VL's text model on a chat template, and ByT5 for quoted (glyph) text
    "hunyuan-video-1.5": (("text_encoder", "Qwen2_5_VLTextModel", 16), ("text_encoder_2", "T5EncoderModel", 8)),
}

#: The words the tiny tokenizer knows; any other word is ``<unk>``.
TINY_WORDS = ("a the maze red blue green yellow cat dog ball box walks runs rolls left right up down to from "
              "of and video").split()

SPECIAL = ["<pad>", "</s>", "<unk>"]
#: A chat template for HunyuanVideo 1.5's tokenizer: its pipeline drops the first 108 tokens of
#: the encoded chat (Qwen's system prompt), so the system message becomes 108 words here.
CHAT_TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'system' %}{{ 'video ' * 108 }}"
                 "{% else %}{{ m['content'] }} {% endif %}{% endfor %}")


def tiny_tokenizer(*, end_token: bool = False):
    """A whitespace word-level tokenizer over :data:`TINY_WORDS` (``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2);
    ``end_token``: it ends every text with ``</s>`` (where CLIP pools)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = [*SPECIAL, *TINY_WORDS]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    if end_token:
        backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def _encoder(cls_name: str, width: int, vocab: int):
    import transformers

    torch.manual_seed(0)
    if cls_name == "Qwen2_5_VLTextModel":
        # read 3 from the end as Llama above; its rotary embedding splits each head's 4 frequencies
        # over (time, height, width)
        config = transformers.Qwen2_5_VLTextConfig(
            vocab_size=vocab, hidden_size=width, intermediate_size=2 * width, num_hidden_layers=3,
            num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048, pad_token_id=0,
            bos_token_id=1, eos_token_id=1, rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2]})
    elif cls_name == "LlamaModel":
        # HunyuanVideo reads the hidden states 3 from the end: with three layers, the first layer's output
        config = transformers.LlamaConfig(vocab_size=vocab, hidden_size=width, intermediate_size=2 * width,
                                          num_hidden_layers=3, num_attention_heads=2, num_key_value_heads=2,
                                          max_position_embeddings=512, pad_token_id=0)
    elif cls_name == "CLIPTextModel":
        # CLIP pools at the end-of-text token; HunyuanVideo pads prompts to 77 tokens
        config = transformers.CLIPTextConfig(vocab_size=vocab, hidden_size=width, intermediate_size=2 * width,
                                             num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=77,
                                             pad_token_id=0, bos_token_id=1, eos_token_id=SPECIAL.index("</s>"))
    else:
        config_cls = transformers.UMT5Config if cls_name == "UMT5EncoderModel" else transformers.T5Config
        config = config_cls(vocab_size=vocab, d_model=width, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
                            relative_attention_num_buckets=8)
    return getattr(transformers, cls_name)(config).eval()


def tiny_text_components(name: str) -> dict:
    """Pipeline components ``{tokenizer, text_encoder[, tokenizer_2, text_encoder_2]}`` for entry ``name``."""
    check_choice("tiny model with a text encoder", name, list(TEXT_ENCODERS))
    components = {}
    for component, cls_name, width in TEXT_ENCODERS[name]:
        tokenizer = tiny_tokenizer(end_token=cls_name == "CLIPTextModel")
        if cls_name == "Qwen2_5_VLTextModel":
            tokenizer.chat_template = CHAT_TEMPLATE
        components[component.replace("text_encoder", "tokenizer")] = tokenizer
        components[component] = _encoder(cls_name, width, len(tokenizer))
    return components


def tiny_text_encoder(name: str):
    """The tokenizer and (first) text encoder of entry ``name``."""
    components = tiny_text_components(name)
    return components["tokenizer"], components["text_encoder"]
