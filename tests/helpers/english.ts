/**
 * Finds English words left in a text that should be in another language: what remains after taking
 * out the parameter values it was built from, file paths, option names and code-like tokens, and the
 * names of products and formats that stay the same in every language.
 */
/** Names of products, formats, tools and settings (as sd-scripts writes them), and example tokens. */
const SAME_IN_EVERY_LANGUAGE = [
  'SDXL LoRA LoCon LoHa LoKr LyCORIS Dreambooth SDPA xformers VAE U-Net CFG GPU GPUs CUDA NVIDIA PyTorch',
  'torch torchvision Adafactor AdamW Prodigy DAdapt bitsandbytes sd-scripts kohya_ss Diffusers safetensors',
  'ckpt TOML JSON NaN fp8 fp16 bf16 float float32 Hugging Face Python pip uv git Windows Linux OneDrive',
  'TensorBoard tensorboard wandb Weights Biases Min-SNR SNR RTX Blackwell NTFS FAT32 FAT exFAT ext4 btrfs',
  'xfs venv PATH GeForce true false constant constant_with_warmup loss nan pt refiner library tokenizer Add',
  'to iA3 kohya network_module algo locon loha lokr metadata_file sdpa none cpu Stable Diffusion OpenCLIP',
  'CLIP accelerate lycoris networks AdEMAMix8bit Resume Repair requirements txt caption npz SGD Lion',
  'Paged prodigyopt dadaptation schedulefree setuptools wheel Multires Original GUI ID all',
  'alpha dim conv prior gamma attention cosine linear polynomial full huber finetune bypass env name',
  'sks dog Studio GitHub https ssh PyPI Colab Kaggle CLI Debian Ubuntu PID English Game Ready NCCL gloo DDP',
]
  .join(' ')
  .split(' ')

const KEEP = new Set(SAME_IN_EVERY_LANGUAGE.map((w) => w.toLowerCase()))

export function englishWords(text: string, params: Record<string, unknown> = {}): string[] {
  let rest = text
  // Longest first, so a value containing another is removed whole.
  const values = Object.values(params)
    .map(String)
    .filter((v) => v.length > 0)
    .sort((a, b) => b.length - a.length)
  for (const v of values) rest = rest.split(v).join(' ')
  // Quoted text is quoted as it is (sd-scripts' own error text, a button of another program).
  rest = rest.replace(/«[^»]*»|"[^"]*"|“[^”]*”/g, ' ')
  return (
    rest
      .split(/[\s,;:()«»"“”'`…!?]+/)
      // Command-line options (--source, --torch-index-url) are names, the same in every language.
      .filter((w) => !/^--[a-z]/i.test(w))
      .map((w) => w.replace(/^[.\-–—]+|[.\-–—]+$/g, ''))
      // Words joined by hyphens are names of tools and packages (nvidia-smi, lycoris-lora, v-prediction).
      .filter((w) => /^[A-Za-z]{3,}$/.test(w))
      .filter((w) => !KEEP.has(w.toLowerCase()))
  )
}
