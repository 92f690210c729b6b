/**
 * `Promise.withResolvers` (ES2024) polyfill. libp2p 3 calls it at run time; Node 24 has it, Node 20
 * does not. `createP2PNode` installs it before it touches libp2p, and importing this package
 * installs it too, so nothing else is needed on either Node version.
 */
interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

/**
 * Installs `Promise.withResolvers` if the runtime lacks it. Returns true if it installed it.
 * @example
 * installPromiseWithResolvers() // false on Node 24, true the first time on Node 20
 */
export function installPromiseWithResolvers(): boolean {
  const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }
  if (typeof P.withResolvers === 'function') return false
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new (this ?? Promise)<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
  return true
}

installPromiseWithResolvers()
