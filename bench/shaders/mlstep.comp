#version 450
// One small step of a chain: x = x * 3 + k over a few thousand elements,
// k from a push constant (as ML inference runs layer after layer).
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Data { uint x[]; };
layout(push_constant) uniform Params { uint k; uint n; } p;

void main()
{
   uint i = gl_GlobalInvocationID.x;
   if (i < p.n)
      x[i] = x[i] * 3u + p.k;
}
