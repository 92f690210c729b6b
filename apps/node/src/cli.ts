#!/usr/bin/env node
console.log('aureon: not built yet')
