// Synthetic stand-ins for image embeddings, for tests and benchmarks of the
// projection code. Isotropic Gaussian blobs are useless for ranking layouts
// (every UMAP of them scores the same trustworthiness), so these clusters are
// low-rank and anisotropic like CLIP embeddings: points live near a 64-dim
// subspace of the 768-dim space, each cluster spreads along a few of its own
// directions with decaying scale and along a curved 1-D trend (think gestational
// age within a plane), under a shared offset and a little isotropic noise.
import {createRng} from "../random.js";

export interface SyntheticEmbeddingOptions {
  n: number;
  dim: number;
  clusters: number;
  seed?: number | string;
  /** Dimension of the subspace the structure lives in (default 64). */
  latentDim?: number;
  /** Standard deviation of the isotropic noise per coordinate, relative to a unit latent spread (default 0.02). */
  noise?: number;
}

export interface SyntheticEmbeddings {
  vectors: Float32Array;
  /** Cluster of each row. */
  labels: Int32Array;
}

/** n rows of dim float32 values in `clusters` anisotropic, curved clusters; deterministic for a seed. */
export function syntheticEmbeddings(options: SyntheticEmbeddingOptions): SyntheticEmbeddings {
  const {n, dim, clusters} = options;
  const latent = Math.min(options.latentDim ?? 64, dim);
  const noise = options.noise ?? 0.02;
  const rng = createRng(options.seed ?? 0);
  const gaussian = (count: number, sd: number) => Float64Array.from({length: count}, () => rng.normal(0, sd));

  const basis = gaussian(latent * dim, 1 / Math.sqrt(dim)); // latent -> dim, nearly orthonormal
  const offset = gaussian(dim, 1);
  const spreadRank = 6;
  const model = Array.from({length: clusters}, () => ({
    centre: gaussian(latent, 1.6),
    axes: gaussian(spreadRank * latent, 1 / Math.sqrt(latent)),
    trend: gaussian(latent, 1.5 / Math.sqrt(latent)),
    bend: gaussian(latent, 1.0 / Math.sqrt(latent))
  }));

  const vectors = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  const z = new Float64Array(latent);
  for (let i = 0; i < n; i++) {
    const c = i % clusters;
    labels[i] = c;
    const {centre, axes, trend, bend} = model[c]!;
    const t = rng.uniform(-1, 1);
    for (let a = 0; a < latent; a++) z[a] = centre[a]! + t * trend[a]! + t * t * bend[a]!;
    for (let r = 0; r < spreadRank; r++) {
      const g = rng.normal(0, 0.6 / (r + 1));
      for (let a = 0; a < latent; a++) z[a]! += g * axes[r * latent + a]!;
    }
    const o = i * dim;
    const row = new Float64Array(dim);
    for (let d = 0; d < dim; d++) row[d] = offset[d]! * 0.5 + rng.normal(0, noise);
    for (let a = 0; a < latent; a++) {
      const za = z[a]!, b = a * dim;
      for (let d = 0; d < dim; d++) row[d]! += za * basis[b + d]!;
    }
    vectors.set(row, o);
  }
  return {vectors, labels};
}
