/** A tiny typed event emitter (no node:events dependency in consensus-critical code). */
export class Emitter<T extends { [K in keyof T]: (...args: any[]) => void }> {
  private readonly listeners = new Map<keyof T, Set<T[keyof T]>>()

  on<E extends keyof T>(event: E, listener: T[E]): () => void {
    let set = this.listeners.get(event)
    if (!set) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener)
    return () => set.delete(listener)
  }

  emit<E extends keyof T>(event: E, ...args: Parameters<T[E]>): void {
    for (const l of this.listeners.get(event) ?? [])
      (l as (...a: Parameters<T[E]>) => void)(...args)
  }
}
