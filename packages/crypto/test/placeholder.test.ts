import { describe, expect, it } from 'vitest'
import { placeholder } from '../src/index.js'

describe('placeholder', () => {
  it('works', () => expect(placeholder()).toBe(1))
})
