#version 450
// dst[i] = src[i] * mul + add + i, for i < count; integer math only.
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) readonly buffer Src { uint src[]; };
layout(set = 0, binding = 1) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform Push {
    uint mul;
    uint add;
    uint count;
} pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i < pc.count)
        dst[i] = src[i] * pc.mul + pc.add + i;
}
