const KI = 1024;
const MI = KI * 1024;
const GI = MI * 1024;

/** Bytes as a Kubernetes quantity, in the largest binary unit that divides it exactly (134217728 -> "128Mi"). */
export function bytesToQuantity(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`not a positive byte count: ${bytes}`);
  if (bytes % GI === 0) return `${bytes / GI}Gi`;
  if (bytes % MI === 0) return `${bytes / MI}Mi`;
  if (bytes % KI === 0) return `${bytes / KI}Ki`;
  return String(bytes);
}

/** Docker's NanoCpus as Kubernetes millicores, rounded up so a limit never shrinks (500000000 -> "500m"). */
export function nanoCpusToQuantity(nanoCpus: number): string {
  if (!Number.isFinite(nanoCpus) || nanoCpus <= 0) throw new RangeError(`not a positive CPU amount: ${nanoCpus}`);
  return `${Math.ceil(nanoCpus / 1e6)}m`;
}
