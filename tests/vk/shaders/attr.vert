#version 450
// Per-vertex position and color (binding 0), per-instance offset (binding 1).
layout(location = 0) in vec2 a_pos;
layout(location = 1) in vec4 a_color;
layout(location = 2) in vec2 a_offset;
layout(location = 0) out vec4 v_color;

void main()
{
    gl_Position = vec4(a_pos + a_offset, 0.0, 1.0);
    v_color = a_color;
}
