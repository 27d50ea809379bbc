#version 450
// Encodes the instance index in red (low 8 bits) and green (high bits), so
// the check can tell that every one of the small draws landed in its cell.
layout(location = 0) flat in uint v_id;
layout(location = 0) out vec4 color;

void main()
{
   color = vec4(float(v_id & 255u) / 255.0, float(v_id >> 8u) / 255.0, 1.0, 1.0);
}
