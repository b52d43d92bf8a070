//! The named built-in models, instantiated from the generic builders with the constants of
//! their papers and model cards.

use xpusim_ir::{Graph, Phase};

use crate::cnn::{mobilenet_v2, resnet, ResNetConfig};
use crate::rnn::{deepspeech2, gnmt, lstm_lm, GnmtConfig, DEEPSPEECH2, GNMT, ZAREMBA_LARGE};
use crate::ssm::SsmConfig;
use crate::transformer::{
    Activation, Arch, FfnKind, LayerKind, Mixer, MlaConfig, MoeConfig, NormStyle, Positions,
    TransformerConfig, VisionConfig,
};
use crate::{ModelError, ModelInfo, Workload};

const INF: &[Phase] = &[Phase::Inference];
const DEC: &[Phase] = &[Phase::Prefill, Phase::Decode];

#[allow(clippy::too_many_arguments)]
const fn info(
    name: &'static str,
    aliases: &'static [&'static str],
    era: &'static str,
    description: &'static str,
    source: &'static str,
    phases: &'static [Phase],
    default_batch: u64,
    default_seq_len: u64,
) -> ModelInfo {
    ModelInfo {
        name,
        aliases,
        era,
        description,
        source,
        phases,
        default_batch,
        default_seq_len,
    }
}

/// Every built-in model. Names are stable identifiers used across xpusim.
pub const CATALOG: &[ModelInfo] = &[
    info("resnet-50", &["resnet50", "rn50"], "cnn", "ResNet-50 v1.5 image classifier, 224×224",
        "He et al. 2016, Deep Residual Learning, arXiv:1512.03385 (Table 1); torchvision resnet50", INF, 32, 1),
    info("resnet-18", &["resnet18"], "cnn", "ResNet-18 (basic blocks), 224×224",
        "He et al. 2016, arXiv:1512.03385 (Table 1); torchvision resnet18", INF, 32, 1),
    info("resnet-101", &["resnet101"], "cnn", "ResNet-101 v1.5, 224×224",
        "He et al. 2016, arXiv:1512.03385 (Table 1); torchvision resnet101", INF, 32, 1),
    info("resnet-152", &["resnet152"], "cnn", "ResNet-152 v1.5, 224×224",
        "He et al. 2016, arXiv:1512.03385 (Table 1); torchvision resnet152", INF, 32, 1),
    info("mobilenet-v2", &["mobilenetv2", "mobilenet_v2"], "cnn", "MobileNetV2 1.0, 224×224",
        "Sandler et al. 2018, MobileNetV2, arXiv:1801.04381 (Table 2)", INF, 32, 1),
    info("lstm-lm", &["zaremba-lstm", "ptb-lstm-large"], "rnn", "2-layer 1500-unit word LSTM LM (PTB large)",
        "Zaremba et al. 2014, Recurrent Neural Network Regularization, arXiv:1409.2329 (§4.1)", INF, 20, 35),
    info("gnmt", &["gnmt-8"], "rnn", "GNMT 8+8-layer LSTM encoder–decoder with attention",
        "Wu et al. 2016, Google's Neural Machine Translation System, arXiv:1609.08144 (§3–4)", INF, 64, 50),
    info("gnmt-v2", &["nvidia-gnmt-v2"], "rnn", "NVIDIA GNMT v2: 4+4-layer LSTM encoder–decoder (1024), attention",
        "NVIDIA/DeepLearningExamples PyTorch/Translation/GNMT/README.md, 'Default configuration': 4-layer LSTM encoder (first bidirectional) and 4-layer LSTM decoder of hidden size 1024, normalized Bahdanau attention, shared 32000-token BPE vocabulary (WMT16 en-de). Approximation: the builder gives encoder and decoder their own embedding tables (v2 shares one)", INF, 128, 50),
    info("deepspeech2", &["ds2", "deepspeech-2"], "rnn", "DeepSpeech2: 2 conv + 5 bidirectional GRU(1024) layers",
        "Amodei et al. 2016, Deep Speech 2, arXiv:1512.02595 (§3, Tables 1–4)", INF, 16, 1000),
    info("bert-base", &["bert-base-uncased", "bert_base", "google-bert/bert-base-uncased"], "encoder", "BERT-Base encoder (12 layers, 768 hidden)",
        "Devlin et al. 2019, BERT, arXiv:1810.04805 (§3); HF google-bert/bert-base-uncased", INF, 8, 512),
    info("bert-large", &["bert-large-uncased", "bert_large"], "encoder", "BERT-Large encoder (24 layers, 1024 hidden)",
        "Devlin et al. 2019, BERT, arXiv:1810.04805 (§3); HF google-bert/bert-large-uncased", INF, 8, 512),
    info("vit-b-16", &["vit-b/16", "vit_b_16", "vit-base-patch16-224"], "vision-transformer", "ViT-Base/16 at 224×224",
        "Dosovitskiy et al. 2021, An Image is Worth 16x16 Words, arXiv:2010.11929 (Table 1)", INF, 32, 197),
    info("gpt-2", &["gpt2", "gpt-2-small", "gpt2-124m", "openai-community/gpt2"], "decoder", "GPT-2 small (124 M)",
        "Radford et al. 2019, Language Models are Unsupervised Multitask Learners; HF openai-community/gpt2", DEC, 1, 1024),
    info("llama-2-7b", &["llama2-7b", "llama-2-7b-hf", "meta-llama/llama-2-7b-hf"], "decoder", "Llama 2 7B",
        "Touvron et al. 2023, Llama 2, arXiv:2307.09288 (Table 1); HF meta-llama/Llama-2-7b-hf", DEC, 1, 2048),
    info("llama-2-13b", &["llama2-13b", "llama-2-13b-hf", "meta-llama/llama-2-13b-hf"], "decoder", "Llama 2 13B",
        "Touvron et al. 2023, Llama 2, arXiv:2307.09288; HF meta-llama/Llama-2-13b-hf", DEC, 1, 2048),
    info("llama-2-70b", &["llama2-70b", "llama-2-70b-hf", "meta-llama/llama-2-70b-hf"], "decoder", "Llama 2 70B (GQA, 8 KV heads)",
        "Touvron et al. 2023, Llama 2, arXiv:2307.09288; HF meta-llama/Llama-2-70b-hf", DEC, 1, 2048),
    info("llama-3-8b", &["llama3-8b", "meta-llama-3-8b", "llama-3.1-8b", "llama3.1-8b", "meta-llama/meta-llama-3-8b", "meta-llama/llama-3.1-8b"], "decoder", "Llama 3 / 3.1 8B (GQA, 128 k vocab)",
        "Meta 2024, Llama 3 model card; Dubey et al. 2024, arXiv:2407.21783 (Table 3); HF meta-llama/Meta-Llama-3-8B. Llama 3.1 8B (HF meta-llama/Llama-3.1-8B config.json) has the same layers, widths, heads and vocabulary; only the RoPE scaling for its 128 k context differs, which changes no parameter or FLOP, so it is this model", DEC, 1, 8192),
    info("llama-3-70b", &["llama3-70b", "meta-llama-3-70b", "llama-3.1-70b", "llama3.1-70b", "meta-llama/meta-llama-3-70b", "meta-llama/llama-3.1-70b"], "decoder", "Llama 3 / 3.1 70B",
        "Dubey et al. 2024, The Llama 3 Herd of Models, arXiv:2407.21783 (Table 3); HF meta-llama/Meta-Llama-3-70B. Llama 3.1 70B (HF meta-llama/Llama-3.1-70B) has the same shapes; only the RoPE scaling for 128 k context differs, so it is this model", DEC, 1, 8192),
    info("mixtral-8x7b", &["mixtral", "mixtral-8x7b-v0.1", "mistralai/mixtral-8x7b-v0.1"], "moe", "Mixtral 8x7B sparse MoE (top-2 of 8)",
        "Jiang et al. 2024, Mixtral of Experts, arXiv:2401.04088 (Table 1); HF mistralai/Mixtral-8x7B-v0.1", DEC, 1, 4096),
    info("deepseek-v3", &["deepseek-v3-671b", "deepseek-ai/deepseek-v3"], "moe", "DeepSeek-V3: MLA + 1 shared / 256 routed experts (top-8)",
        "DeepSeek-AI 2024, DeepSeek-V3 Technical Report, arXiv:2412.19437 (§2, §4.2); HF deepseek-ai/DeepSeek-V3 config.json", DEC, 1, 4096),
    info("gpt3-175b", &["gpt-3-175b", "gpt3", "gpt-3"], "decoder", "GPT-3 175B (96 layers, 12288 hidden)",
        "Brown et al. 2020, Language Models are Few-Shot Learners, arXiv:2005.14165 (Table 2.1)", DEC, 1, 2048),
    // Default 4096 tokens, not the 8192 of training: one 8192-token prefill of the 126-layer
    // stack (126 × 8192·16384·106496 gate/up MACs) exceeds the IR's 2^50 size limit.
    info("llama-3.1-405b", &["llama3.1-405b", "meta-llama-3.1-405b", "meta-llama/llama-3.1-405b"], "decoder", "Llama 3.1 405B (126 layers, 16384 hidden, GQA-8)",
        "Dubey et al. 2024, The Llama 3 Herd of Models, arXiv:2407.21783 (Table 3: 126 layers, model dim 16384, FFN 53248, 128 heads, 8 KV heads); HF meta-llama/Llama-3.1-405B config.json (vocab 128256, untied)", DEC, 1, 4096),
    info("opt-175b", &["opt", "opt-175", "facebook/opt-175b"], "decoder", "OPT-175B (96 layers, 12288 hidden, ReLU)",
        "Zhang et al. 2022, OPT: Open Pre-trained Transformer Language Models, arXiv:2205.01068 (Table 1: 96 layers, 96 heads, 12288 hidden; FFN 4x, ReLU, 2048 context); HF facebook/opt config (vocab 50272, learned positions with a 2-row offset, tied)", DEC, 1, 2048),
    info("bloom-176b", &["bloom", "bigscience/bloom"], "decoder", "BLOOM 176B (70 layers, 14336 hidden, ALiBi)",
        "BigScience 2022, BLOOM, arXiv:2211.05100 (Table 3: 70 layers, 112 heads, 14336 hidden, 250680-token vocabulary padded to 250880, ALiBi, embedding LayerNorm); bigscience-workshop/bigscience train/tr11-176B-ml README (12h^2+13h per layer). ALiBi has no parameters and its per-score bias add is not modelled: positions are Positions::None, the scheme the zoo uses for ALiBi", DEC, 1, 2048),
    info("palm-540b", &["palm", "palm-540"], "decoder", "PaLM 540B (118 layers, 18432 hidden, multi-query, parallel blocks)",
        "Chowdhery et al. 2022, PaLM, arXiv:2204.02311 (Table 1: 118 layers, d_model 18432, 48 heads of 256, d_ff 4x; §2: SwiGLU, parallel attention+FFN, multi-query, RoPE, no biases, shared embeddings, 256k SentencePiece vocabulary). Parallel blocks (norms_per_layer = 1): attention and FFN read one shared LayerNorm and one add joins both to the residual stream, so tensor parallelism joins them once per layer; the fusion of the two input projections into one GEMM is not modelled", DEC, 1, 2048),
    info("mt-nlg-530b", &["megatron-turing-nlg-530b", "mt-nlg", "megatron-gpt-530b", "megatron-gpt-529.6b"], "decoder", "Megatron-Turing NLG 530B (105 layers, 20480 hidden)",
        "Smith et al. 2022, Using DeepSpeed and Megatron to Train Megatron-Turing NLG 530B, arXiv:2201.11990 (§2.3: 105 layers, 20480 hidden, 128 heads, 2048 sequence); same shape as the 529.6B row of Narayanan et al. 2021 Table 1; GPT-2 BPE vocabulary padded by Megatron to 51200", DEC, 1, 2048),
    info("megatron-gpt-1.7b", &[], "decoder", "Megatron GPT 1.7B (24 layers, 2304 hidden)",
        "Narayanan et al. 2021, Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM, arXiv:2104.04473 (Table 1: 24 heads, hidden 2304, 24 layers; vocabulary 51200, sequence 2048)", DEC, 1, 2048),
    info("megatron-gpt-3.6b", &[], "decoder", "Megatron GPT 3.6B (30 layers, 3072 hidden)",
        "Narayanan et al. 2021, arXiv:2104.04473 (Table 1: 32 heads, hidden 3072, 30 layers)", DEC, 1, 2048),
    info("megatron-gpt-7.5b", &[], "decoder", "Megatron GPT 7.5B (36 layers, 4096 hidden)",
        "Narayanan et al. 2021, arXiv:2104.04473 (Table 1: 32 heads, hidden 4096, 36 layers)", DEC, 1, 2048),
    info("megatron-gpt-18.4b", &[], "decoder", "Megatron GPT 18.4B (40 layers, 6144 hidden)",
        "Narayanan et al. 2021, arXiv:2104.04473 (Table 1: 48 heads, hidden 6144, 40 layers)", DEC, 1, 2048),
    info("megatron-gpt-22b", &["megatron-22b"], "decoder", "Megatron GPT 22B (48 layers, 6144 hidden)",
        "Korthikanti et al. 2022, Reducing Activation Recomputation in Large Transformer Models, arXiv:2205.05198 (Table 3: 64 heads, hidden 6144, 48 layers; vocabulary 51200, sequence 2048)", DEC, 1, 2048),
    info("megatron-gpt-39.1b", &[], "decoder", "Megatron GPT 39.1B (48 layers, 8192 hidden)",
        "Narayanan et al. 2021, arXiv:2104.04473 (Table 1: 64 heads, hidden 8192, 48 layers)", DEC, 1, 2048),
    info("megatron-gpt-76.1b", &[], "decoder", "Megatron GPT 76.1B (60 layers, 10240 hidden)",
        "Narayanan et al. 2021, arXiv:2104.04473 (Table 1: 80 heads, hidden 10240, 60 layers)", DEC, 1, 2048),
    info("megatron-gpt-145.6b", &[], "decoder", "Megatron GPT 145.6B (80 layers, 12288 hidden)",
        "Narayanan et al. 2021, arXiv:2104.04473 (Table 1: 96 heads, hidden 12288, 80 layers)", DEC, 1, 2048),
    info("megatron-gpt-310.1b", &[], "decoder", "Megatron GPT 310.1B (96 layers, 16384 hidden)",
        "Narayanan et al. 2021, arXiv:2104.04473 (Table 1: 128 heads, hidden 16384, 96 layers)", DEC, 1, 2048),
    info("megatron-gpt-1t", &["megatron-1t", "megatron-gpt-1008b"], "decoder", "Megatron GPT 1T (128 layers, 25600 hidden)",
        "Narayanan et al. 2021, arXiv:2104.04473 (Table 1: 160 heads, hidden 25600, 128 layers, 1008.0 B parameters); Korthikanti et al. 2022, arXiv:2205.05198 (Table 3)", DEC, 1, 2048),
    info("mcore-gpt-1.7b", &[], "decoder", "Megatron-Core GPT 1.7B (24 layers, 2048 hidden, 131k vocabulary)",
        "NVIDIA/Megatron-LM README.md at 937571c (2024-07-15), images/model_table.png (Megatron-Core r0.8.0 weak scaling on H100: 16 heads, hidden 2048, 24 layers; vocabulary 131072, sequence 4096; untied embeddings, which the table's sizes require)", DEC, 1, 4096),
    info("mcore-gpt-7.1b", &[], "decoder", "Megatron-Core GPT 7.1B (30 layers, 4096 hidden, 131k vocabulary)",
        "NVIDIA/Megatron-LM README.md at 937571c (2024-07-15), images/model_table.png (Megatron-Core r0.8.0 weak scaling on H100: 32 heads, hidden 4096, 30 layers; vocabulary 131072, sequence 4096; untied embeddings, which the table's sizes require)", DEC, 1, 4096),
    info("mcore-gpt-16b", &[], "decoder", "Megatron-Core GPT 16B (32 layers, 6144 hidden, 131k vocabulary)",
        "NVIDIA/Megatron-LM README.md at 937571c (2024-07-15), images/model_table.png (Megatron-Core r0.8.0 weak scaling on H100: 48 heads, hidden 6144, 32 layers; vocabulary 131072, sequence 4096; untied embeddings, which the table's sizes require)", DEC, 1, 4096),
    info("mcore-gpt-32b", &[], "decoder", "Megatron-Core GPT 32B (48 layers, 7168 hidden, 131k vocabulary)",
        "NVIDIA/Megatron-LM README.md at 937571c (2024-07-15), images/model_table.png (Megatron-Core r0.8.0 weak scaling on H100: 56 heads, hidden 7168, 48 layers; vocabulary 131072, sequence 4096; untied embeddings, which the table's sizes require)", DEC, 1, 4096),
    info("mcore-gpt-70b", &[], "decoder", "Megatron-Core GPT 70B (84 layers, 8192 hidden, 131k vocabulary)",
        "NVIDIA/Megatron-LM README.md at 937571c (2024-07-15), images/model_table.png (Megatron-Core r0.8.0 weak scaling on H100: 64 heads, hidden 8192, 84 layers; vocabulary 131072, sequence 4096; untied embeddings, which the table's sizes require)", DEC, 1, 4096),
    info("mcore-gpt-119b", &[], "decoder", "Megatron-Core GPT 119B (92 layers, 10240 hidden, 131k vocabulary)",
        "NVIDIA/Megatron-LM README.md at 937571c (2024-07-15), images/model_table.png (Megatron-Core r0.8.0 weak scaling on H100: 80 heads, hidden 10240, 92 layers; vocabulary 131072, sequence 4096; untied embeddings, which the table's sizes require)", DEC, 1, 4096),
    info("mcore-gpt-177b", &[], "decoder", "Megatron-Core GPT 177B (96 layers, 12288 hidden, 131k vocabulary)",
        "NVIDIA/Megatron-LM README.md at 937571c (2024-07-15), images/model_table.png (Megatron-Core r0.8.0 weak scaling on H100: 96 heads, hidden 12288, 96 layers; vocabulary 131072, sequence 4096; untied embeddings, which the table's sizes require)", DEC, 1, 4096),
    info("mcore-gpt-314b", &[], "decoder", "Megatron-Core GPT 314B (96 layers, 16384 hidden, 131k vocabulary)",
        "NVIDIA/Megatron-LM README.md at 937571c (2024-07-15), images/model_table.png (Megatron-Core r0.8.0 weak scaling on H100: 128 heads, hidden 16384, 96 layers; vocabulary 131072, sequence 4096; untied embeddings, which the table's sizes require)", DEC, 1, 4096),
    info("mcore-gpt-462b", &[], "decoder", "Megatron-Core GPT 462B (112 layers, 18432 hidden, 131k vocabulary)",
        "NVIDIA/Megatron-LM README.md at 937571c (2024-07-15), images/model_table.png (Megatron-Core r0.8.0 weak scaling on H100: 144 heads, hidden 18432, 112 layers; vocabulary 131072, sequence 4096; untied embeddings, which the table's sizes require)", DEC, 1, 4096),
    info("mamba-2.8b", &["mamba", "mamba-2.8b-hf", "state-spaces/mamba-2.8b-hf"], "ssm", "Mamba 2.8B selective state-space LM",
        "Gu & Dao 2023, Mamba, arXiv:2312.00752 (Table 12); HF state-spaces/mamba-2.8b-hf", DEC, 1, 2048),
    info("sd-1.5-unet", &["stable-diffusion-1.5-unet", "sd15-unet", "sd-unet"], "diffusion",
        "Stable Diffusion 1.5 UNet: one denoising step of a 512×512 image (64×64 latent; classifier-free guidance runs 2 latents per image)",
        "Rombach et al. 2022, High-Resolution Image Synthesis with Latent Diffusion Models (CVPR); configs/stable-diffusion/v1-inference.yaml", INF, 1, 77),
];

/// Llama-family decoder (RMSNorm, SwiGLU, RoPE, untied, no biases).
fn llama(
    name: &str,
    hidden: u64,
    layers: u64,
    heads: u64,
    kv: u64,
    inter: u64,
    vocab: u64,
) -> TransformerConfig {
    TransformerConfig::decoder(name, hidden, layers, heads, kv, inter, vocab)
}

/// BERT encoder (post-LN, GELU, biases, learned positions, token types, pooler).
fn bert(name: &str, hidden: u64, layers: u64, heads: u64) -> TransformerConfig {
    TransformerConfig::encoder(name, hidden, layers, heads, 4 * hidden, 30_522)
}

/// GPT-2/3-style decoder as Megatron-LM trains it: pre-LN with biased LayerNorm, GELU MLP of
/// 4·hidden, biases everywhere, learned positions, tied input/output embedding.
fn gpt(
    name: &str,
    hidden: u64,
    layers: u64,
    heads: u64,
    vocab: u64,
    ctx: u64,
) -> TransformerConfig {
    TransformerConfig {
        gated_ffn: false,
        activation: Activation::Gelu,
        tied_embeddings: true,
        positions: Positions::Learned { max_positions: ctx },
        norm: NormStyle::LayerNorm { bias: true },
        qkv_bias: true,
        out_bias: true,
        mlp_bias: true,
        ..TransformerConfig::decoder(name, hidden, layers, heads, heads, 4 * hidden, vocab)
    }
}

/// Megatron-LM's GPT runs (Narayanan et al. 2021 §5, Korthikanti et al. 2022 §6): vocabulary
/// 51 200 (GPT-2's 50 257 padded to a multiple of 128·TP) and 2048 positions.
fn megatron_gpt(name: &str, hidden: u64, layers: u64, heads: u64) -> TransformerConfig {
    gpt(name, hidden, layers, heads, 51_200, 2048)
}

/// Megatron-Core's H100 scaling runs (NVIDIA/Megatron-LM README at 937571c, 2024): GPT
/// blocks (LayerNorm, GeLU, biases) with a 131 072-token vocabulary and 4096-token sequences.
/// Untied input and output embeddings: the table's sizes need them (tied, its "1.7B" model
/// would have 1.48 B parameters). Positions are not stated; Megatron's default, a learned
/// absolute table (`--position-embedding-type learned_absolute` in arguments.py).
fn mcore_gpt(name: &str, hidden: u64, layers: u64, heads: u64) -> TransformerConfig {
    TransformerConfig {
        tied_embeddings: false,
        ..gpt(name, hidden, layers, heads, 131_072, 4096)
    }
}

/// The transformer description of a built-in transformer / SSM model (None for CNNs and
/// RNNs).
pub fn transformer_config(name: &str) -> Option<TransformerConfig> {
    let n = crate::find(name)?.name;
    Some(match n {
        // BERT-Base/Large: L=12/24, H=768/1024, A=12/16, FFN 4H, 30 522 WordPiece (§3).
        "bert-base" => bert(n, 768, 12, 12),
        "bert-large" => bert(n, 1024, 24, 16),
        // ViT-B/16: 12 layers, 768 hidden, 3072 MLP, 12 heads (Table 1), pre-LN, class token.
        "vit-b-16" => TransformerConfig {
            arch: Arch::EncoderOnly,
            gated_ffn: false,
            activation: Activation::Gelu,
            positions: Positions::Learned { max_positions: 197 },
            norm: NormStyle::LayerNorm { bias: true },
            qkv_bias: true,
            out_bias: true,
            mlp_bias: true,
            vision: Some(VisionConfig {
                image_size: 224,
                patch_size: 16,
                channels: 3,
                num_classes: 1000,
                class_token: true,
            }),
            ..TransformerConfig::decoder(n, 768, 12, 12, 12, 3072, 0)
        },
        // GPT-2 small: n_embd 768, n_layer 12, n_head 12, n_ctx 1024, vocab 50 257, tied.
        "gpt-2" => TransformerConfig {
            gated_ffn: false,
            activation: Activation::Gelu,
            tied_embeddings: true,
            positions: Positions::Learned {
                max_positions: 1024,
            },
            norm: NormStyle::LayerNorm { bias: true },
            qkv_bias: true,
            out_bias: true,
            mlp_bias: true,
            ..TransformerConfig::decoder(n, 768, 12, 12, 12, 3072, 50_257)
        },
        // GPT-3 175B (Table 2.1): d_model 12 288, 96 layers, 96 heads of 128, d_ff 4·d_model,
        // 2048 context, GPT-2 tokenizer (50 257), learned positions, pre-LN, biases.
        "gpt3-175b" => TransformerConfig {
            gated_ffn: false,
            activation: Activation::Gelu,
            tied_embeddings: true,
            positions: Positions::Learned {
                max_positions: 2048,
            },
            norm: NormStyle::LayerNorm { bias: true },
            qkv_bias: true,
            out_bias: true,
            mlp_bias: true,
            ..TransformerConfig::decoder(n, 12_288, 96, 96, 96, 49_152, 50_257)
        },
        // Llama 2 (Table 1 + HF config.json): 7B 4096×32, 13B 5120×40, 70B 8192×80 GQA-8.
        "llama-2-7b" => llama(n, 4096, 32, 32, 32, 11_008, 32_000),
        "llama-2-13b" => llama(n, 5120, 40, 40, 40, 13_824, 32_000),
        "llama-2-70b" => llama(n, 8192, 80, 64, 8, 28_672, 32_000),
        // Llama 3 (Table 3): 8B 4096×32 / 70B 8192×80, GQA-8, FFN 14 336 / 28 672, 128 256 vocab.
        "llama-3-8b" => llama(n, 4096, 32, 32, 8, 14_336, 128_256),
        "llama-3-70b" => llama(n, 8192, 80, 64, 8, 28_672, 128_256),
        // Llama 3.1 405B (Table 3): 126 layers, 16384 model dim, FFN 53 248, 128 heads / 8 KV
        // heads; vocabulary 128 256 (HF config.json), untied.
        "llama-3.1-405b" => llama(n, 16_384, 126, 128, 8, 53_248, 128_256),
        // OPT-175B (Table 1): 96 layers × 12 288, 96 heads, FFN 4·d, ReLU; HF config: vocab
        // 50 272, 2048 positions + the 2-row offset of OPT's learned table, tied, final LN.
        "opt-175b" => TransformerConfig {
            activation: Activation::Relu,
            ..gpt(n, 12_288, 96, 96, 50_272, 2050)
        },
        // BLOOM (Table 3): 70 layers × 14 336, 112 heads, FFN 4·d, GELU, vocab 250 880 (padded),
        // ALiBi (no positional parameters: Positions::None), LayerNorm after the embedding.
        "bloom-176b" => TransformerConfig {
            positions: Positions::None,
            embedding_norm: true,
            ..gpt(n, 14_336, 70, 112, 250_880, 2048)
        },
        // PaLM 540B (Table 1, §2): 118 layers, d_model 18 432, 48 query heads of 256 sharing one
        // K/V head (multi-query), SwiGLU with d_ff = 4·d_model, RoPE, no biases, LayerNorm
        // without bias, one shared norm per parallel block, tied 256 000-token embedding.
        "palm-540b" => TransformerConfig {
            head_dim: 256,
            tied_embeddings: true,
            norm: NormStyle::LayerNorm { bias: false },
            norms_per_layer: 1,
            ..llama(n, 18_432, 118, 48, 1, 73_728, 256_000)
        },
        // MT-NLG 530B (Smith et al. §2.3) = the 529.6B row of Narayanan et al. Table 1.
        "mt-nlg-530b" => megatron_gpt(n, 20_480, 105, 128),
        // Narayanan et al. 2021 Table 1 and Korthikanti et al. 2022 Table 3 (heads, hidden, layers).
        "megatron-gpt-1.7b" => megatron_gpt(n, 2304, 24, 24),
        "megatron-gpt-3.6b" => megatron_gpt(n, 3072, 30, 32),
        "megatron-gpt-7.5b" => megatron_gpt(n, 4096, 36, 32),
        "megatron-gpt-18.4b" => megatron_gpt(n, 6144, 40, 48),
        "megatron-gpt-22b" => megatron_gpt(n, 6144, 48, 64),
        "megatron-gpt-39.1b" => megatron_gpt(n, 8192, 48, 64),
        "megatron-gpt-76.1b" => megatron_gpt(n, 10_240, 60, 80),
        "megatron-gpt-145.6b" => megatron_gpt(n, 12_288, 80, 96),
        "megatron-gpt-310.1b" => megatron_gpt(n, 16_384, 96, 128),
        "megatron-gpt-1t" => megatron_gpt(n, 25_600, 128, 160),
        // Megatron-Core r0.8.0's H100 weak-scaling models (README model table): heads, hidden, layers.
        "mcore-gpt-1.7b" => mcore_gpt(n, 2048, 24, 16),
        "mcore-gpt-7.1b" => mcore_gpt(n, 4096, 30, 32),
        "mcore-gpt-16b" => mcore_gpt(n, 6144, 32, 48),
        "mcore-gpt-32b" => mcore_gpt(n, 7168, 48, 56),
        "mcore-gpt-70b" => mcore_gpt(n, 8192, 84, 64),
        "mcore-gpt-119b" => mcore_gpt(n, 10_240, 92, 80),
        "mcore-gpt-177b" => mcore_gpt(n, 12_288, 96, 96),
        "mcore-gpt-314b" => mcore_gpt(n, 16_384, 96, 128),
        "mcore-gpt-462b" => mcore_gpt(n, 18_432, 112, 144),
        // Mixtral (Table 1): dim 4096, 32 layers, 32 heads / 8 KV, expert FFN 14 336, 8 experts, top-2.
        "mixtral-8x7b" => TransformerConfig {
            moe: Some(MoeConfig {
                experts: 8,
                top_k: 2,
                expert_intermediate: 14_336,
                shared_intermediate: 0,
                shared_gate: false,
                first_dense_layers: 0,
                layer_period: 1,
                layer_offset: 0,
            }),
            ..llama(n, 4096, 32, 32, 8, 14_336, 32_000)
        },
        // Mamba-2.8B: d_model 2560, 64 layers, d_state 16, d_conv 4, expand 2, dt_rank 160,
        // vocab 50 280 (padded), tied embeddings (HF state-spaces/mamba-2.8b-hf config.json).
        // DeepSeek-V3 (arXiv:2412.19437 §4.2): 61 layers, hidden 7168, 128 heads, MLA with
        // q/kv LoRA ranks 1536/512, qk 128+64, v 128; first 3 layers dense (18 432), then
        // 256 routed experts (2048) top-8 plus 1 shared; 129 280 vocab, untied.
        "deepseek-v3" => {
            let mut c = llama(n, 7168, 61, 128, 128, 18_432, 129_280);
            c.head_dim = 192;
            c.mla = Some(MlaConfig {
                q_lora_rank: Some(1536),
                kv_lora_rank: 512,
                qk_nope_head_dim: 128,
                qk_rope_head_dim: 64,
                v_head_dim: 128,
            });
            c.moe = Some(MoeConfig {
                experts: 256,
                top_k: 8,
                expert_intermediate: 2048,
                shared_intermediate: 2048,
                shared_gate: false,
                first_dense_layers: 3,
                layer_period: 1,
                layer_offset: 0,
            });
            c
        }
        "mamba-2.8b" => mamba(n, 2560, 64, 50_280),
        _ => return None,
    })
}

/// A pure Mamba-1 stack (no attention, no FFN; Gu & Dao 2023 §3.4).
pub fn mamba(name: &str, hidden: u64, layers: u64, vocab: u64) -> TransformerConfig {
    TransformerConfig {
        tied_embeddings: true,
        positions: Positions::None,
        ssm: Some(SsmConfig {
            d_state: 16,
            d_conv: 4,
            expand: 2,
            dt_rank: hidden.div_ceil(16),
            head_dim: 64,
            n_groups: 1,
            conv_bias: true,
            proj_bias: false,
            inner_norms: false,
        }),
        layer_kinds: Some(vec![
            LayerKind {
                mixer: Mixer::Mamba,
                ffn: FfnKind::None
            };
            layers as usize
        ]),
        ..TransformerConfig::decoder(name, hidden, layers, 0, 0, 0, vocab)
    }
}

/// Lowers catalogue model `name` (its canonical name).
pub(crate) fn build_named(name: &str, w: &Workload) -> Result<Graph, ModelError> {
    if let Some(cfg) = transformer_config(name) {
        return cfg.build(w);
    }
    match name {
        // He et al. 2016 Table 1: blocks per stage for 18/50/101/152 layers.
        "resnet-18" | "resnet-50" | "resnet-101" | "resnet-152" => {
            let (blocks, bottleneck) = match name {
                "resnet-18" => ([2, 2, 2, 2], false),
                "resnet-50" => ([3, 4, 6, 3], true),
                "resnet-101" => ([3, 4, 23, 3], true),
                _ => ([3, 8, 36, 3], true),
            };
            let cfg = ResNetConfig {
                blocks,
                bottleneck,
                classes: 1000,
            };
            resnet(name, &cfg, w)
        }
        "mobilenet-v2" => mobilenet_v2(name, w),
        "lstm-lm" => lstm_lm(name, &ZAREMBA_LARGE, w),
        "gnmt" => gnmt(name, &GNMT, w),
        // NVIDIA GNMT v2 (DeepLearningExamples README): 4 + 4 LSTM layers of 1024, 32 000 BPE.
        "gnmt-v2" => gnmt(
            name,
            &GnmtConfig {
                vocab: 32_000,
                hidden: 1024,
                encoder_layers: 4,
                decoder_layers: 4,
            },
            w,
        ),
        "deepspeech2" => deepspeech2(name, &DEEPSPEECH2, w),
        crate::diffusion::NAME => Ok(crate::diffusion::unet(w.batch, w.precision, w.phase)?),
        _ => Err(ModelError::UnknownModel {
            name: name.to_string(),
            suggestions: crate::suggestions(name),
        }),
    }
}
