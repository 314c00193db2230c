/**
 * Every weight-bearing layer of the SDXL U-Net and both text encoders, generated from the published
 * architecture (sd-scripts v0.8.3 `library/sdxl_original_unet.py`; CLIP ViT-L/14 and OpenCLIP ViT-bigG/14
 * text towers), not copied from anywhere. Tests check the generated table against the exact totals of
 * ../shared/reference/vram.md §3: 2,567,463,684 U-Net parameters (Linear 2,233,603,520, Conv 333,272,004,
 * norms 588,160), 722 LoRA modules and 2,659,840 parameters per rank unit, 38 conv modules and 355,840 per
 * conv rank unit, 123,060,480 + 694,659,840 text-encoder parameters.
 */

/** Which sd-scripts / LyCORIS module class a layer sits in (what network targeting looks at). */
export type Owner = 'transformer' | 'resnet' | 'downsample' | 'upsample' | 'te_attn' | 'te_mlp' | 'other'

export interface Layer {
  kind: 'linear' | 'conv' | 'norm' | 'embedding'
  /** For linear/conv: input features/channels; for norm: features; for embedding: rows. */
  in: number
  /** For linear/conv: output features/channels; for embedding: width. 0 for norms. */
  out: number
  /** Conv kernel size (1 or 3); 1 for everything else. */
  k: number
  bias: boolean
  owner: Owner
}

export function layerParams(l: Layer): number {
  switch (l.kind) {
    case 'norm':
      return 2 * l.in // weight + bias
    case 'embedding':
      return l.in * l.out
    default:
      return l.in * l.out * l.k * l.k + (l.bias ? l.out : 0)
  }
}

// SDXL U-Net hyper-parameters (sd-scripts sdxl_original_unet.py).
const MODEL_CHANNELS = 320
const TIME_EMBED_DIM = 1280 // 4 × model channels
const ADM_IN_CHANNELS = 2816 // pooled text (1280) + 6 size/crop embeddings × 256
const CONTEXT_DIM = 2048 // CLIP-L 768 + bigG 1280 hidden states, concatenated

function linear(inF: number, outF: number, owner: Owner, bias = true): Layer {
  return { kind: 'linear', in: inF, out: outF, k: 1, bias, owner }
}
function conv(inC: number, outC: number, k: number, owner: Owner): Layer {
  return { kind: 'conv', in: inC, out: outC, k, bias: true, owner }
}
function norm(features: number, owner: Owner): Layer {
  return { kind: 'norm', in: features, out: 0, k: 1, bias: true, owner }
}

function resnetBlock(inC: number, outC: number): Layer[] {
  const layers = [
    norm(inC, 'resnet'),
    conv(inC, outC, 3, 'resnet'),
    linear(TIME_EMBED_DIM, outC, 'resnet'),
    norm(outC, 'resnet'),
    conv(outC, outC, 3, 'resnet'),
  ]
  if (inC !== outC) layers.push(conv(inC, outC, 1, 'resnet'))
  return layers
}

function basicTransformerBlock(c: number): Layer[] {
  const t: Owner = 'transformer'
  return [
    norm(c, t),
    // self-attention: q, k, v without bias, out with bias
    linear(c, c, t, false),
    linear(c, c, t, false),
    linear(c, c, t, false),
    linear(c, c, t),
    norm(c, t),
    // cross-attention on the 2048-wide text context
    linear(c, c, t, false),
    linear(CONTEXT_DIM, c, t, false),
    linear(CONTEXT_DIM, c, t, false),
    linear(c, c, t),
    norm(c, t),
    // GEGLU feed-forward: c → 2·4c, then 4c → c
    linear(c, 8 * c, t),
    linear(4 * c, c, t),
  ]
}

function transformer2d(c: number, depth: number): Layer[] {
  const layers: Layer[] = [norm(c, 'transformer'), linear(c, c, 'transformer')] // GroupNorm, proj_in (linear)
  for (let i = 0; i < depth; i++) layers.push(...basicTransformerBlock(c))
  layers.push(linear(c, c, 'transformer')) // proj_out
  return layers
}

function buildUnet(): Layer[] {
  const c1 = MODEL_CHANNELS
  const c2 = 2 * c1
  const c3 = 4 * c1
  const L: Layer[] = []
  // time and size/crop ("label") embeddings
  L.push(linear(c1, TIME_EMBED_DIM, 'other'), linear(TIME_EMBED_DIM, TIME_EMBED_DIM, 'other'))
  L.push(linear(ADM_IN_CHANNELS, TIME_EMBED_DIM, 'other'), linear(TIME_EMBED_DIM, TIME_EMBED_DIM, 'other'))
  // input blocks
  L.push(conv(4, c1, 3, 'other'))
  L.push(...resnetBlock(c1, c1), ...resnetBlock(c1, c1))
  L.push(conv(c1, c1, 3, 'downsample'))
  L.push(...resnetBlock(c1, c2), ...transformer2d(c2, 2))
  L.push(...resnetBlock(c2, c2), ...transformer2d(c2, 2))
  L.push(conv(c2, c2, 3, 'downsample'))
  L.push(...resnetBlock(c2, c3), ...transformer2d(c3, 10))
  L.push(...resnetBlock(c3, c3), ...transformer2d(c3, 10))
  // middle block
  L.push(...resnetBlock(c3, c3), ...transformer2d(c3, 10), ...resnetBlock(c3, c3))
  // output blocks: input channels include the skip connection
  L.push(...resnetBlock(c3 + c3, c3), ...transformer2d(c3, 10))
  L.push(...resnetBlock(c3 + c3, c3), ...transformer2d(c3, 10))
  L.push(...resnetBlock(c3 + c2, c3), ...transformer2d(c3, 10), conv(c3, c3, 3, 'upsample'))
  L.push(...resnetBlock(c3 + c2, c2), ...transformer2d(c2, 2))
  L.push(...resnetBlock(c2 + c2, c2), ...transformer2d(c2, 2))
  L.push(...resnetBlock(c2 + c1, c2), ...transformer2d(c2, 2), conv(c2, c2, 3, 'upsample'))
  L.push(...resnetBlock(c2 + c1, c1))
  L.push(...resnetBlock(c1 + c1, c1))
  L.push(...resnetBlock(c1 + c1, c1))
  // out
  L.push(norm(c1, 'other'), conv(c1, 4, 3, 'other'))
  return L
}

const CLIP_VOCAB = 49408
const CLIP_POSITIONS = 77

function clipTextTower(width: number, layers: number, mlp: number, projection: boolean): Layer[] {
  const L: Layer[] = [
    { kind: 'embedding', in: CLIP_VOCAB, out: width, k: 1, bias: false, owner: 'other' },
    { kind: 'embedding', in: CLIP_POSITIONS, out: width, k: 1, bias: false, owner: 'other' },
  ]
  for (let i = 0; i < layers; i++) {
    L.push(norm(width, 'other'))
    for (let j = 0; j < 4; j++) L.push(linear(width, width, 'te_attn')) // q, k, v, out_proj
    L.push(norm(width, 'other'))
    L.push(linear(width, mlp, 'te_mlp'), linear(mlp, width, 'te_mlp'))
  }
  L.push(norm(width, 'other')) // final_layer_norm
  if (projection) L.push(linear(width, width, 'other', false)) // bigG text_projection
  return L
}

export const UNET_LAYERS: readonly Layer[] = buildUnet()
/** CLIP ViT-L/14 text encoder (TE1): width 768, 12 layers, MLP 3072. */
export const TE1_LAYERS: readonly Layer[] = clipTextTower(768, 12, 3072, false)
/** OpenCLIP ViT-bigG/14 text encoder (TE2): width 1280, 32 layers, MLP 5120, text projection. */
export const TE2_LAYERS: readonly Layer[] = clipTextTower(1280, 32, 5120, true)

export function sumParams(layers: readonly Layer[], filter: (l: Layer) => boolean = () => true): number {
  let n = 0
  for (const l of layers) if (filter(l)) n += layerParams(l)
  return n
}

/** The largest single weight tensor (elements): sets per-tensor optimizer transients. */
export function largestTensor(layers: readonly Layer[]): number {
  let m = 0
  for (const l of layers) {
    const n = l.kind === 'norm' ? l.in : l.kind === 'embedding' ? l.in * l.out : l.in * l.out * l.k * l.k
    if (n > m) m = n
  }
  return m
}

/**
 * Adafactor (transformers, beta1=None) state elements: for a ≥2-D weight, the row factor (shape[:-1]) plus
 * the column factor (shape[:-2] + shape[-1:]); 1-D tensors keep a full second moment (vram.md §5).
 */
export function adafactorStateElements(layers: readonly Layer[]): number {
  let n = 0
  for (const l of layers) {
    if (l.kind === 'norm') n += 2 * l.in
    else if (l.kind === 'embedding') n += l.in + l.out
    else {
      if (l.kind === 'linear')
        n += l.out + l.in // weight (out, in)
      else n += 2 * l.out * l.in * l.k // conv weight (out, in, k, k), 1x1 too: both factors are out·in·k
      if (l.bias) n += l.out
    }
  }
  return n
}

/** Frozen in sdxl_train.py even with --train_text_encoder: TE1's last layer and final_layer_norm (vram.md §6). */
export const TE1_FROZEN_PARAMS = (() => {
  const w = 768
  const perLayer = 4 * (w * w + w) + (w * 3072 + 3072) + (3072 * w + w) + 2 * 2 * w
  return perLayer + 2 * w
})()

/** Token and position embeddings of both TEs: kept in weight_dtype under fp8_base (vram.md §3). */
export const TE_EMBEDDING_PARAMS =
  sumParams(TE1_LAYERS, (l) => l.kind === 'embedding') + sumParams(TE2_LAYERS, (l) => l.kind === 'embedding')

export const UNET_PARAMS = sumParams(UNET_LAYERS)
export const TE1_PARAMS = sumParams(TE1_LAYERS)
export const TE2_PARAMS = sumParams(TE2_LAYERS)
export const TE_PARAMS = TE1_PARAMS + TE2_PARAMS
/** AutoencoderKL parameters (vram.md §3; not generated: only its total matters here). */
export const VAE_PARAMS = 83_653_863
