#version 450
// out[i] = in[i] * mul + i over large storage buffers; grid-stride loop so
// any buffer size fits in the dispatch limits.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In { uint a[]; };
layout(std430, binding = 1) writeonly buffer Out { uint b[]; };
layout(push_constant) uniform Params { uint n; uint mul; } p;

void main()
{
   uint stride = gl_NumWorkGroups.x * 256u;
   for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride)
      b[i] = a[i] * p.mul + i;
}
