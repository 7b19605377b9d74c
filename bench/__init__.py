"""The relay benchmark: a fake OpenAI upstream, a load client, and a runner (BENCHMARKS.md)."""
