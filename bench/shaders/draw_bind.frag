#version 450
// Red/green: the object index (as draw.frag); blue: the bound "material"
// (descriptor set), so the check sees which set each draw used.
layout(location = 0) flat in uint v_id;
layout(set = 0, binding = 0) uniform Material { vec4 tint; } m;
layout(location = 0) out vec4 color;

void main()
{
   color = vec4(float(v_id & 255u) / 255.0, float(v_id >> 8u) / 255.0, m.tint.b, 1.0);
}
